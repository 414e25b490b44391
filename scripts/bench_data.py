#!/usr/bin/env python3
"""Deterministic benchmark data for `make bench`.

    scripts/bench_data.py OUTDIR N_EVENTS N_ACCOUNTS SEED

Writes, for the example catalog (examples/catalog.yaml):
  OUTDIR/accounts.csv    N_ACCOUNTS accounts (header as `tierplan accounts import` expects)
  OUTDIR/events.ndjson   N_EVENTS feature events, one JSON object a line, in time order
  OUTDIR/events.tsv      exactly the same rows in COPY text format, columns
                         account_id, id, user_id, feature_key, at, count

Spread: 90 days ending 2026-11-01 (UTC), weekdays and working hours busier; account activity
is heavy-tailed (a few large accounts make most events); users per account follow the tier's
seats; features mostly those of the account's tier (reports > sharing > automation > sso),
with a few percent on features above the tier (what drives upgrade signals); count is mostly 1.
Every account and feature exists, every (account, id) is unique: a first ingest is all new.
Same arguments, same bytes (random.Random(SEED), no clock, no hash ordering).
"""
import os
import random
import sys
from datetime import date, timedelta

TIERS = [  # code, share of accounts, seats, features in the tier
    ("starter", 0.45, 5, ["reports"]),
    ("team", 0.30, 20, ["reports", "sharing"]),
    ("business", 0.18, 50, ["reports", "sharing", "automation"]),
    ("enterprise", 0.07, 200, ["reports", "sharing", "automation", "sso"]),
]
FEATURE_WEIGHT = {"reports": 10.0, "sharing": 5.0, "automation": 3.0, "sso": 1.0}
ALL_FEATURES = ["reports", "sharing", "automation", "sso"]
SEGMENT = {"starter": "smb", "team": "smb", "business": "mid", "enterprise": "enterprise"}
OWNERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
END = date(2026, 11, 1)  # exclusive
DAYS = 90


def main(argv):
    if len(argv) != 5:
        sys.stderr.write("usage: bench_data.py OUTDIR N_EVENTS N_ACCOUNTS SEED\n")
        return 2
    outdir, n_events, n_accounts, seed = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    if n_events < 0 or n_accounts < 1:
        sys.stderr.write("bench_data.py: N_EVENTS >= 0 and N_ACCOUNTS >= 1\n")
        return 2
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(seed)

    # ── accounts ──
    width = max(5, len(str(n_accounts)))
    accounts = []  # (id, tier index, active users, activity weight)
    lines = ["account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at\n"]
    tier_weights = [t[1] for t in TIERS]
    for i in range(1, n_accounts + 1):
        account_id = "a%0*d" % (width, i)
        t = rng.choices(range(len(TIERS)), tier_weights)[0]
        code, _, seats, _ = TIERS[t]
        status = rng.choices(["active", "trialing", "past_due"], [0.90, 0.06, 0.04])[0]
        created = date(2022, 1, 1) + timedelta(days=rng.randrange(0, (date(2026, 7, 1) - date(2022, 1, 1)).days))
        addons = []
        if code in ("starter", "team") and rng.random() < 0.15:
            addons.append("storage_100:%d" % rng.randint(1, 3))
        if code != "starter" and rng.random() < 0.10:
            addons.append("storage_1000:1")
        if rng.random() < 0.12:
            addons.append("seats_5:%d" % rng.randint(1, 4))
        if code == "team" and rng.random() < 0.08:
            addons.append("automation:1")
        discount = rng.choices(["0", "5", "10", "12.5", "20"], [0.70, 0.08, 0.12, 0.05, 0.05])[0]
        lines.append("%s,Account %d,%s,%s,%s,%s,%s,%s,%s,\n" % (
            account_id, i, code, status, created.isoformat(), ";".join(addons), discount,
            SEGMENT[code], OWNERS[rng.randrange(len(OWNERS))]))
        # Active users: a share of the seats (a few accounts over their seats), at least one.
        users = max(1, int(seats * rng.uniform(0.2, 1.15)))
        # Heavy-tailed activity per user (log-normal), times the number of users.
        weight = users * rng.lognormvariate(0.0, 1.0)
        accounts.append((account_id, t, users, weight))
    with open(os.path.join(outdir, "accounts.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))

    # Per tier: features to draw from (tier features by weight, ~4 % above the tier).
    tier_feature_choice = []
    for _, _, _, feats in TIERS:
        inside = sum(FEATURE_WEIGHT[k] for k in feats)
        outside = [k for k in ALL_FEATURES if k not in feats]
        names = list(feats) + outside
        weights = [FEATURE_WEIGHT[k] / inside * 0.96 for k in feats]
        if outside:
            weights += [0.04 / len(outside)] * len(outside)
        else:
            weights = [w / 0.96 for w in weights]
        # A 1,000-slot lookup table makes the per-event draw one randrange.
        table = []
        for name, w in zip(names, weights):
            table += [name] * int(round(w * 1000))
        tier_feature_choice.append(table)

    # ── event times: sorted seconds since the start of the window ──
    # Day weights: weekdays 1.0, weekends 0.35, slow growth over the window.
    start = END - timedelta(days=DAYS)
    day_text = []
    day_weight = []
    for d in range(DAYS):
        day = start + timedelta(days=d)
        day_text.append(day.isoformat())
        day_weight.append((1.0 if day.weekday() < 5 else 0.35) * (0.85 + 0.3 * d / DAYS))
    # Hour weights (UTC): busy 07–18, quiet at night.
    hour_weight = [0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.6, 1.6, 1.5,
                   1.3, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2]
    days = rng.choices(range(DAYS), day_weight, k=n_events)
    hours = rng.choices(range(24), hour_weight, k=n_events)
    rand = rng.random
    seconds = [d * 86400 + h * 3600 + int(rand() * 3600) for d, h in zip(days, hours)]
    seconds.sort()
    hms = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]

    # ── which account, user, feature, count ──
    account_ix = rng.choices(range(n_accounts), [a[3] for a in accounts], k=n_events)
    counts = rng.choices([1, 2, 3, 5, 10, 25], [0.70, 0.12, 0.07, 0.06, 0.04, 0.01], k=n_events)

    nd = []
    tsv = []
    nd_path = os.path.join(outdir, "events.ndjson")
    tsv_path = os.path.join(outdir, "events.tsv")
    with open(nd_path, "w", encoding="utf-8", newline="") as fnd, open(tsv_path, "w", encoding="utf-8", newline="") as ftsv:
        for n in range(n_events):
            account_id, t, users, _ = accounts[account_ix[n]]
            # Within an account a few users do most of the work (u1 busiest).
            user = "u%d" % (int(rand() * rand() * users) + 1)
            table = tier_feature_choice[t]
            feature = table[int(rand() * len(table))]
            s = seconds[n]
            at = "%sT%sZ" % (day_text[s // 86400], hms[s % 86400])
            event_id = "f-%d" % (n + 1)
            count = counts[n]
            nd.append('{"type":"feature","id":"%s","account":"%s","user":"%s","feature":"%s","at":"%s","count":%d}\n'
                      % (event_id, account_id, user, feature, at, count))
            tsv.append("%s\t%s\t%s\t%s\t%s\t%d\n" % (account_id, event_id, user, feature, at, count))
            if len(nd) >= 65536:
                fnd.write("".join(nd)); nd.clear()
                ftsv.write("".join(tsv)); tsv.clear()
        fnd.write("".join(nd))
        ftsv.write("".join(tsv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
