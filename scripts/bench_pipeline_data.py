#!/usr/bin/env python3
"""Deterministic data for scripts/bench_pipeline.sh (the nightly pipeline: ingest, then run).

    scripts/bench_pipeline_data.py OUTDIR N_ACCOUNTS [SEED] [--format csv|ndjson]

Writes, for the example catalog (examples/catalog.yaml), as of 2026-11-01 (UTC):
  accounts.csv          N accounts, the header `tierplan accounts import` expects
  storage.csv           one storage sample per account and day over the 90 days ending on as_of
                        (2026-08-04 .. 2026-11-01): 90 × N rows
  features.csv          feature events over the 28-day window ending on as_of (2026-10-05 ..
                        2026-11-01): about 3.6 per account and day, ≈ 100.8 × N rows
  nextday.csv           the next day, 2026-11-02: a storage sample for every account and that
                        day's feature events, both types in one file (≈ 5.1 × N rows: a
                        Monday, and weekdays carry 113 % of the average day)
  storage.tsv           the rows of storage.csv in COPY text format: account_id, id, at, bytes
  features.tsv          the rows of features.csv in COPY text format:
                        account_id, id, user_id, feature_key, at, count
  meta.txt              row counts, one `name value` a line
The usage files are tierplan's CSV (`type,id,account,user,feature,at,bytes,count`, with the
header line); `--format ndjson` writes .ndjson files with the same rows instead.

Shape (shares of accounts):
  tiers starter 45 %, team 30 %, business 18 %, enterprise 7 %; add-ons as in bench_data.py;
  status active 92 %, trialing 4 %, past_due 4 % (nobody canceled: every account is watched);
  users: 2–12 per account, about 6 on average, within the seats for most; 6 % of the starter and
  team accounts crowd their seats (90–130 % of the seat limit);
  features: the tier's own (and the automation add-on's), reports > sharing > automation > sso;
  12 % of the accounts below enterprise use a feature above their tier on about 12 % of their
  events (feature demand), the rest stray onto one on 0.5 %; 8 % use only their first feature
  (low adoption). The catalog has 4 features, so an account uses at most 4 distinct ones.
  activity: per account a log-normal rate with mean 3.6 events a day; weekends at 60 %;
  storage: 80 % about flat at 10–60 % of the limit, 15 % growing to 78–97 % by as_of, 5 %
  growing past it (100–115 %); one sample a day at a random second, ±0.2 % noise.
Within a day the rows are in time order (as a daily export would be), days in order.
Every (account, id) is unique across both types: storage ids `sYYYYMMDD`, feature ids
`fYYYYMMDD-K`. Same arguments, same bytes: random.Random(SEED), no clock, no hash ordering.
"""
import os
import random
import sys
from datetime import date, timedelta

AS_OF = date(2026, 11, 1)
STORAGE_DAYS = 90
WINDOW_DAYS = 28
TIERS = [  # code, share, storage_gb, seats, features (by popularity)
    ("starter", 0.45, 100, 5, ["reports"]),
    ("team", 0.30, 500, 20, ["reports", "sharing"]),
    ("business", 0.18, 2000, 50, ["reports", "sharing", "automation"]),
    ("enterprise", 0.07, 10000, 200, ["reports", "sharing", "automation", "sso"]),
]
ALL_FEATURES = ["reports", "sharing", "automation", "sso"]
FEATURE_WEIGHT = {"reports": 10.0, "sharing": 6.0, "automation": 4.0, "sso": 2.0}
SEGMENT = {"starter": "smb", "team": "smb", "business": "mid", "enterprise": "enterprise"}
OWNERS = ["alice", "bob", "carol", "dave", "erin", "frank"]
USERS = {"starter": (2, 5), "team": (4, 9), "business": (5, 10), "enterprise": (6, 12)}
EVENTS_PER_DAY = 3.6
LOG_SIGMA = 0.6
WEEKEND_SHARE = 0.6                              # a weekend day has 60 % of a weekday's events
WEEKDAY = 7 / (5 + 2 * WEEKEND_SHARE)            # so that a week averages EVENTS_PER_DAY


def note(text):
    sys.stderr.write("bench_pipeline_data: %s\n" % text)
    sys.stderr.flush()


def feature_table(choices):
    """A 1,000-slot lookup table: one randrange picks a feature by weight."""
    table = []
    for name, weight in choices:
        table += [name] * max(1, int(round(weight * 1000)))
    return table


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--format")]
    fmt = "csv"
    for a in argv[1:]:
        if a.startswith("--format="):
            fmt = a.split("=", 1)[1]
    if len(args) not in (2, 3) or fmt not in ("csv", "ndjson"):
        sys.stderr.write("usage: bench_pipeline_data.py OUTDIR N_ACCOUNTS [SEED] [--format=csv|ndjson]\n")
        return 2
    outdir, n_accounts = args[0], int(args[1])
    seed = int(args[2]) if len(args) == 3 else 20261101
    if n_accounts < 1 or n_accounts > 9999999:
        sys.stderr.write("bench_pipeline_data.py: N_ACCOUNTS must be 1..9999999\n")
        return 2
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(seed)
    rand = rng.random

    # ── accounts ──
    lines = ["account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at\n"]
    accounts = []  # (id, users, rate, feature table, storage start, growth per day, limit)
    weights = [t[1] for t in TIERS]
    start_day = date(2022, 1, 1)
    span = (date(2026, 6, 1) - start_day).days   # every account is older than the 90 days of samples
    for i in range(1, n_accounts + 1):
        account_id = "a%07d" % i
        code, _, storage_gb, seats, tier_features = TIERS[rng.choices(range(len(TIERS)), weights)[0]]
        status = rng.choices(["active", "trialing", "past_due"], [0.92, 0.04, 0.04])[0]
        created = start_day + timedelta(days=rng.randrange(span))
        addons = []
        s100 = rng.randint(1, 3) if code in ("starter", "team") and rand() < 0.15 else 0
        s1000 = 1 if code != "starter" and rand() < 0.10 else 0
        seats5 = rng.randint(1, 2) if rand() < 0.10 else 0
        auto = 1 if code == "team" and rand() < 0.08 else 0
        if s100: addons.append("storage_100:%d" % s100)
        if s1000: addons.append("storage_1000:1")
        if seats5: addons.append("seats_5:%d" % seats5)
        if auto: addons.append("automation:1")
        discount = rng.choices(["0", "5", "10", "12.5", "20"], [0.70, 0.08, 0.12, 0.05, 0.05])[0]
        lines.append("%s,Account %d,%s,%s,%s,%s,%s,%s,%s,\n" % (
            account_id, i, code, status, created.isoformat(), ";".join(addons), discount,
            SEGMENT[code], OWNERS[rng.randrange(len(OWNERS))]))

        seat_limit = seats + 5 * seats5
        lo, hi = USERS[code]
        if code in ("starter", "team") and rand() < 0.06:
            users = max(1, int(round(seat_limit * rng.uniform(0.9, 1.3))))   # crowding the seats
        else:
            users = min(rng.randint(lo, hi), seat_limit)
        rate = EVENTS_PER_DAY * rng.lognormvariate(-LOG_SIGMA * LOG_SIGMA / 2, LOG_SIGMA)

        included = list(tier_features) + (["automation"] if auto else [])
        above = [f for f in ALL_FEATURES if f not in included]
        r = rand()
        if r < 0.08:
            inside = [(included[0], 1.0)]                                      # low adoption
            share_above = 0.0
        else:
            inside = [(f, FEATURE_WEIGHT[f]) for f in included]
            share_above = (0.12 if r < 0.20 else 0.005) if above else 0.0     # demand / stray
        total = sum(w for _, w in inside)
        choices = [(f, w / total * (1 - share_above)) for f, w in inside]
        if share_above:
            choices.append((above[rng.randrange(len(above))], share_above))
        table = feature_table(choices)

        limit = (storage_gb + 100 * s100 + 1000 * s1000) * 10 ** 9
        b = rand()
        if b < 0.15:     # growing to 78–97 % by as_of
            end = rng.uniform(0.78, 0.97); begin = end - rng.uniform(0.20, 0.35)
        elif b < 0.20:   # growing past the limit
            end = rng.uniform(1.00, 1.15); begin = end - 0.2
        else:            # about flat
            begin = rng.uniform(0.10, 0.60); end = begin + rng.uniform(-0.04, 0.05)
        growth = (end - begin) * limit / (STORAGE_DAYS - 1)
        accounts.append((account_id, users, rate, table, begin * limit, growth, limit))
    with open(os.path.join(outdir, "accounts.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))
    note("%d accounts" % n_accounts)

    hms = ["%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]
    ext = "." + fmt
    csv_header = "type,id,account,user,feature,at,bytes,count\n"

    def open_usage(name):
        f = open(os.path.join(outdir, name + ext), "w", encoding="utf-8", newline="")
        if fmt == "csv":
            f.write(csv_header)
        return f

    def storage_day(d, day, out, tsv):
        """One sample per account on day index d (0 = as_of − 89); returns the row count."""
        text = day.isoformat()
        sid = "s" + day.strftime("%Y%m%d")
        rows = []
        for account_id, _, _, _, begin, growth, limit in accounts:
            sec = int(rand() * 86400)
            value = int(begin + growth * d + limit * 0.004 * (rand() - 0.5))
            rows.append((sec, account_id, max(0, value)))
        rows.sort()
        at_of = ["%sT%sZ" % (text, h) for h in hms]
        if fmt == "csv":
            out.write("".join(["storage,%s,%s,,,%s,%d,\n" % (sid, a, at_of[s], v) for s, a, v in rows]))
        else:
            out.write("".join(['{"type":"storage","id":"%s","account":"%s","at":"%s","bytes":%d}\n'
                               % (sid, a, at_of[s], v) for s, a, v in rows]))
        if tsv is not None:
            tsv.write("".join(["%s\t%s\t%s\t%d\n" % (a, sid, at_of[s], v) for s, a, v in rows]))
        return len(rows)

    def feature_day(day, out, tsv):
        """That day's feature events of every account; returns the row count."""
        text = day.isoformat()
        fid = "f" + day.strftime("%Y%m%d") + "-"
        factor = WEEKDAY if day.weekday() < 5 else WEEKDAY * WEEKEND_SHARE
        rows = []
        append = rows.append
        for account_id, users, rate, table, _, _, _ in accounts:
            lam2 = 2.0 * rate * factor
            n = int(lam2 * rand() + rand())          # mean rate × factor
            tn = len(table)
            for k in range(1, n + 1):
                # Busy hours: the mean of two uniforms peaks at midday UTC.
                sec = int((rand() + rand()) * 43200)
                user = int(rand() * rand() * users) + 1 if rand() < 0.5 else int(rand() * users) + 1
                feature = table[int(rand() * tn)]
                r = rand()
                count = 1 if r < 0.8 else (2 if r < 0.92 else (3 if r < 0.97 else 10))
                append((sec, account_id, k, user, feature, count))
        rows.sort()
        at_of = ["%sT%sZ" % (text, h) for h in hms]
        if fmt == "csv":
            out.write("".join(["feature,%s%d,%s,u%d,%s,%s,,%d\n" % (fid, k, a, u, f, at_of[s], c)
                               for s, a, k, u, f, c in rows]))
        else:
            out.write("".join(['{"type":"feature","id":"%s%d","account":"%s","user":"u%d","feature":"%s","at":"%s","count":%d}\n'
                               % (fid, k, a, u, f, at_of[s], c) for s, a, k, u, f, c in rows]))
        if tsv is not None:
            tsv.write("".join(["%s\t%s%d\tu%d\t%s\t%s\t%d\n" % (a, fid, k, u, f, at_of[s], c)
                               for s, a, k, u, f, c in rows]))
        return len(rows)

    # ── storage: 90 days ending on as_of ──
    n_storage = 0
    first = AS_OF - timedelta(days=STORAGE_DAYS - 1)
    with open_usage("storage") as out, open(os.path.join(outdir, "storage.tsv"), "w", encoding="utf-8", newline="") as tsv:
        for d in range(STORAGE_DAYS):
            n_storage += storage_day(d, first + timedelta(days=d), out, tsv)
            if d % 15 == 14:
                note("storage: %d of %d days, %d rows" % (d + 1, STORAGE_DAYS, n_storage))

    # ── feature events: the 28-day window ending on as_of ──
    n_feature = 0
    first = AS_OF - timedelta(days=WINDOW_DAYS - 1)
    with open_usage("features") as out, open(os.path.join(outdir, "features.tsv"), "w", encoding="utf-8", newline="") as tsv:
        for d in range(WINDOW_DAYS):
            n_feature += feature_day(first + timedelta(days=d), out, tsv)
            if d % 7 == 6:
                note("features: %d of %d days, %d rows" % (d + 1, WINDOW_DAYS, n_feature))

    # ── one more day: as_of + 1, both types in one file ──
    next_day = AS_OF + timedelta(days=1)
    with open_usage("nextday") as out:
        n_next_storage = storage_day(STORAGE_DAYS, next_day, out, None)
        n_next_feature = feature_day(next_day, out, None)
    note("next day %s: %d storage + %d feature rows" % (next_day, n_next_storage, n_next_feature))

    with open(os.path.join(outdir, "meta.txt"), "w", encoding="utf-8") as f:
        f.write("format %s\naccounts %d\nstorage %d\nfeatures %d\nnext_storage %d\nnext_features %d\n"
                % (fmt, n_accounts, n_storage, n_feature, n_next_storage, n_next_feature))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
