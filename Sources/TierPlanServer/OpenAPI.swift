import Yams

/// The OpenAPI 3.1 description of /api/v1, served at /api/openapi.yaml.
enum OpenAPI {
    static let document = """
    openapi: 3.1.0
    info:
      title: tierplan API
      version: "1"
      description: >-
        Offers, decisions, signals, forecast and metrics of tierplan. Authenticate with
        `Authorization: Bearer TOKEN` (tokens from `tierplan tokens create --role R`) or a browser
        session; session-authenticated POSTs need the `X-CSRF-Token` header. Money is integer minor units.
    servers:
      - url: /
    components:
      securitySchemes:
        bearer: {type: http, scheme: bearer}
      parameters:
        id: {name: id, in: path, required: true, schema: {type: string}}
        asOf: {name: as_of, in: query, required: false, description: "the day (default: the latest run's as_of)", schema: {$ref: "#/components/schemas/Day"}}
      responses:
        BadRequest: {description: "A parameter, query key, content type or body this operation does not take", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        Unauthorized: {description: Not signed in (send Authorization Bearer TOKEN), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        Forbidden: {description: "Needs the reviewer role, or (with a browser session) the X-CSRF-Token header", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        NotFound: {description: No such offer or account, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
        Unavailable:
          description: The database is unavailable; nothing was changed, try again after Retry-After seconds
          headers: {Retry-After: {schema: {type: integer}}}
          content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
      schemas:
        Day:
          type: string
          description: "YYYY-MM-DD from 1900-01-01 to 2999-12-31 (29 February is accepted in leap years; the pattern leaves it out to stay a plain regular expression)"
          pattern: "^(19|2[0-9])[0-9][0-9]-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))$"
        Version: {type: [integer, "null"], minimum: 1, maximum: 2147483647, description: "the offer version the decision was made on (a stale one gets 409); null or absent: no check"}
        Error:
          type: object
          required: [error]
          properties: {error: {type: string}}
        AddonQuantity:
          type: object
          properties: {addon: {type: string}, quantity: {type: integer}}
        Offer:
          type: object
          required: [id, account_id, kind, rank, from_tier, to_tier, add, remove, current_mrr, new_mrr, delta_mrr, one_time,
                     acceptance_probability, expected_delta_mrr, reasons, rationale, status, version, experiment, arm]
          properties:
            id: {type: string, format: uuid}
            account_id: {type: string}
            kind: {type: string, enum: [tier_upgrade, addon, adoption, trial_conversion]}
            rank: {type: integer}
            from_tier: {type: string}
            to_tier: {type: string}
            add: {type: array, items: {$ref: "#/components/schemas/AddonQuantity"}}
            remove: {type: array, items: {$ref: "#/components/schemas/AddonQuantity"}}
            current_mrr: {type: integer}
            new_mrr: {type: integer}
            delta_mrr: {type: integer}
            one_time: {type: integer}
            acceptance_probability: {type: number}
            expected_delta_mrr: {type: number}
            reasons: {type: array, items: {type: string}}
            rationale: {type: string}
            status: {type: string, enum: [proposed, approved, rejected, snoozed, expired, held_out, accepted, declined]}
            as_of: {type: string, format: date}
            snoozed_until: {type: [string, "null"], format: date}
            version: {type: integer}
            experiment: {type: [string, "null"], description: "the experiment of the offer's account (policy.experiments)"}
            arm: {type: [string, "null"], enum: [treatment, control, null]}
        Event:
          type: object
          description: One status change; from_status is absent on the offer's creation, reason when none was given, reason_code except on declines.
          required: [to_status, actor, at]
          properties: {from_status: {type: string}, to_status: {type: string}, actor: {type: string}, reason: {type: string}, at: {type: string},
                       reason_code: {type: string, enum: [price, budget, timing, no_need, competitor, other]}}
        OfferPage:
          type: object
          required: [offers, total, total_is_lower_bound, limit, offset]
          properties:
            offers: {type: array, items: {$ref: "#/components/schemas/Offer"}}
            total: {type: integer, description: "matching offers, counted up to 1,001"}
            total_is_lower_bound: {type: boolean}
            limit: {type: integer}
            offset: {type: integer}
        OfferWithEvents:
          type: object
          required: [offer, events]
          properties: {offer: {$ref: "#/components/schemas/Offer"}, events: {type: array, items: {$ref: "#/components/schemas/Event"}}}
        Signals:
          type: object
          required: [account_id, tier, status, storage_used_bytes, storage_limit_bytes, storage_utilization, storage_growth_bytes_per_day,
                     storage_days_to_full, included_features, adopted_features, adoption_ratio, active_users, seat_limit, seat_utilization,
                     demanded_features, flags]
          properties:
            account_id: {type: string}
            tier: {type: string}
            status: {type: string, enum: [trialing, active, past_due, canceled]}
            storage_used_bytes: {type: [integer, "null"]}
            storage_limit_bytes: {type: integer}
            storage_utilization: {type: [number, "null"]}
            storage_growth_bytes_per_day: {type: [integer, "null"]}
            storage_days_to_full: {type: [number, "null"]}
            included_features: {type: array, items: {type: string}}
            adopted_features: {type: array, items: {type: string}}
            adoption_ratio: {type: [number, "null"]}
            active_users: {type: integer}
            seat_limit: {type: integer}
            seat_utilization: {type: [number, "null"]}
            demanded_features: {type: array, items: {type: string}}
            flags: {type: array, items: {type: string}}
        AccountSignals:
          type: object
          required: [as_of, account]
          properties: {as_of: {type: string, format: date}, account: {$ref: "#/components/schemas/Signals"}}
        ForecastMonth:
          type: object
          required: [month, active_accounts, mrr_baseline, arpu_baseline, uplift_expected, mrr_expected, arpu_expected,
                     arpu_p10, arpu_p50, arpu_p90, mrr_p10, mrr_p50, mrr_p90]
          properties:
            month: {type: string, pattern: "^[0-9]{4}-[0-9]{2}$"}
            active_accounts: {type: number}
            mrr_baseline: {type: number}
            arpu_baseline: {type: number}
            uplift_expected: {type: number}
            mrr_expected: {type: number}
            arpu_expected: {type: number}
            arpu_p10: {type: number}
            arpu_p50: {type: number}
            arpu_p90: {type: number}
            mrr_p10: {type: number}
            mrr_p50: {type: number}
            mrr_p90: {type: number}
        HistoryMonth:
          type: object
          required: [month, start_accounts, start_mrr, churned, churned_mrr, new, new_mrr, expansion, offer_expansion, organic_expansion,
                     contraction, end_accounts, end_mrr]
          properties:
            month: {type: string, pattern: "^[0-9]{4}-[0-9]{2}$"}
            start_accounts: {type: integer}
            start_mrr: {type: integer}
            churned: {type: integer}
            churned_mrr: {type: integer}
            new: {type: integer}
            new_mrr: {type: integer}
            expansion: {type: integer}
            offer_expansion: {type: integer}
            organic_expansion: {type: integer}
            contraction: {type: integer}
            end_accounts: {type: integer}
            end_mrr: {type: integer}
        Forecast:
          type: object
          required: [as_of, currency, model, paying_accounts, mrr, arpu, monthly_churn, open_offers, expected_delta_mrr, quantiles, months]
          properties:
            group: {type: string}
            as_of: {type: string, format: date}
            currency: {type: string}
            model: {type: string, enum: [history, flat]}
            fallback: {type: string}
            lookback_months: {type: integer}
            paying_accounts: {type: integer}
            mrr: {type: integer}
            arpu: {type: number}
            monthly_churn: {type: number}
            open_offers: {type: integer}
            expected_delta_mrr: {type: number}
            quantiles: {type: string}
            rates:
              type: object
              required: [logo_churn, mrr_churn, contraction, organic_expansion, new_accounts, new_mrr]
              properties: {logo_churn: {type: number}, mrr_churn: {type: number}, contraction: {type: number}, organic_expansion: {type: number},
                           new_accounts: {type: number}, new_mrr: {type: number}}
            history: {type: array, items: {$ref: "#/components/schemas/HistoryMonth"}}
            months: {type: array, items: {$ref: "#/components/schemas/ForecastMonth"}}
        BacktestScore:
          type: object
          required: [forecasts, arpu_mape, mrr_mape, arpu_bias, arpu_coverage]
          properties:
            h: {type: integer}
            forecasts: {type: integer}
            arpu_mape: {type: [number, "null"]}
            mrr_mape: {type: [number, "null"]}
            arpu_bias: {type: [number, "null"]}
            arpu_coverage: {type: [number, "null"]}
        Backtest:
          type: object
          required: [from, to, months, as_of_days, models, points]
          properties:
            from: {type: string, format: date}
            to: {type: string, format: date}
            months: {type: integer}
            as_of_days: {type: array, items: {type: string, format: date}}
            latest_history_date: {type: string, format: date}
            models:
              type: array
              items:
                type: object
                required: [model, horizons, overall]
                properties:
                  model: {type: string, enum: [history, flat]}
                  horizons: {type: array, items: {$ref: "#/components/schemas/BacktestScore"}}
                  overall: {$ref: "#/components/schemas/BacktestScore"}
            points:
              type: array
              items:
                type: object
                required: [as_of, h, month, model, arpu_expected, arpu_p10, arpu_p90, arpu_actual, mrr_expected, mrr_actual]
                properties:
                  as_of: {type: string, format: date}
                  h: {type: integer}
                  month: {type: string, pattern: "^[0-9]{4}-[0-9]{2}$"}
                  model: {type: string, enum: [history, flat]}
                  arpu_expected: {type: number}
                  arpu_p10: {type: number}
                  arpu_p90: {type: number}
                  arpu_actual: {type: number}
                  mrr_expected: {type: number}
                  mrr_actual: {type: number}
        Metrics:
          type: object
          required: [as_of, from, currency, paying_accounts, mrr, arpu, movements, offers_by_status, conversion, realised, uplift,
                     nrr_12m, grr_12m, aov, cltv, declines, calibration, experiments]
          properties:
            as_of: {type: string, format: date}
            from: {type: string, format: date}
            currency: {type: string}
            paying_accounts: {type: integer}
            mrr: {type: integer}
            arpu: {type: number}
            movements:
              type: object
              required: [new, expansion, contraction, churn, reactivation, net]
              properties: {new: {type: integer}, expansion: {type: integer}, contraction: {type: integer}, churn: {type: integer},
                           reactivation: {type: integer}, net: {type: integer}}
            nrr_12m: {type: [number, "null"], description: "net revenue retention of the accounts paying 12 months before as_of"}
            grr_12m: {type: [number, "null"], description: "gross revenue retention of the same cohort"}
            cltv:
              type: object
              description: "lifetime value per account: ARPU × gross_margin / monthly logo churn of the history model (lookback 6); null when that churn is 0 or unknown"
              required: [overall, by_tier, by_segment, gross_margin, monthly_churn]
              properties:
                overall: {type: [number, "null"]}
                by_tier: {type: object, additionalProperties: {type: [number, "null"]}}
                by_segment: {type: object, additionalProperties: {type: [number, "null"]}}
                gross_margin: {type: number}
                monthly_churn: {type: [number, "null"]}
            aov:
              type: array
              description: per offer kind, the mean delta_mrr and one_time of the offers accepted in (from, as_of]; null means when none was
              items:
                type: object
                required: [kind, accepted, mean_delta_mrr, mean_one_time]
                properties: {kind: {type: string, enum: [tier_upgrade, addon, adoption, trial_conversion]}, accepted: {type: integer},
                             mean_delta_mrr: {type: [number, "null"]}, mean_one_time: {type: [number, "null"]}}
            declines:
              type: array
              description: offers declined in (from, as_of] per reason code (every code listed), with the delta_mrr they left
              items:
                type: object
                required: [reason_code, count, delta_mrr]
                properties: {reason_code: {type: string, enum: [price, budget, timing, no_need, competitor, other]}, count: {type: integer},
                             delta_mrr: {type: integer}}
            calibration:
              type: object
              description: "the acceptance probability each offer decided in (from, as_of] carried, against what happened: Brier score and ten bins"
              required: [outcomes, brier, brier_per_kind, bins]
              properties:
                outcomes: {type: integer}
                brier: {type: [number, "null"]}
                brier_per_kind: {type: [number, "null"], description: the Brier score of the kind-level probability alone}
                bins:
                  type: array
                  minItems: 10
                  maxItems: 10
                  items:
                    type: object
                    required: [from, to, count, mean_predicted, observed]
                    properties: {from: {type: number}, to: {type: number}, count: {type: integer},
                                 mean_predicted: {type: [number, "null"]}, observed: {type: [number, "null"]}}
            experiments:
              type: array
              items:
                type: object
                required: [name, p_treatment_better, arms]
                properties:
                  name: {type: string}
                  p_treatment_better: {type: number, description: "P(treatment converts better) under Beta(1 + accepted, 1 + declined), exact"}
                  arms:
                    type: array
                    items:
                      type: object
                      required: [arm, offers, accounts, accepted, declined, conversion, credible_95, realised_delta_mrr_per_account]
                      properties:
                        arm: {type: string, enum: [control, treatment]}
                        offers: {type: integer}
                        accounts: {type: integer}
                        accepted: {type: integer}
                        declined: {type: integer}
                        conversion: {type: [number, "null"]}
                        credible_95: {type: array, items: {type: number}, minItems: 2, maxItems: 2}
                        realised_delta_mrr_per_account: {type: number}
            offers_by_status: {type: object, additionalProperties: {type: integer}}
            conversion:
              type: array
              items:
                type: object
                required: [kind, accepted, declined, rate, credible_low_95, credible_high_95]
                properties: {kind: {type: string}, accepted: {type: integer}, declined: {type: integer}, rate: {type: [number, "null"]},
                             credible_low_95: {type: number}, credible_high_95: {type: number}}
            realised:
              type: object
              required: [accepted_offers, realised_offers, realised_expansion_mrr]
              properties: {accepted_offers: {type: integer}, realised_offers: {type: integer}, realised_expansion_mrr: {type: integer}}
            uplift:
              type: [object, "null"]
              required: [treated_accounts, holdout_accounts, treated_expansion_rate, holdout_expansion_rate, uplift_rate,
                         treated_mean_delta_mrr, holdout_mean_delta_mrr, uplift_mean_delta_mrr]
              properties: {treated_accounts: {type: integer}, holdout_accounts: {type: integer}, treated_expansion_rate: {type: number},
                           holdout_expansion_rate: {type: number}, uplift_rate: {type: number}, treated_mean_delta_mrr: {type: number},
                           holdout_mean_delta_mrr: {type: number}, uplift_mean_delta_mrr: {type: number}}
    security:
      - bearer: []
    paths:
      /api/v1/offers:
        get:
          operationId: listOffers
          summary: Offers, highest expected delta first
          parameters:
            - {name: status, in: query, schema: {type: string, enum: [proposed, approved, rejected, snoozed, expired, held_out, accepted, declined]}}
            - {name: kind, in: query, schema: {type: string, enum: [tier_upgrade, addon, adoption, trial_conversion]}}
            - {name: reason, in: query, schema: {type: string, enum: [storage_over_limit, storage_near_limit, storage_filling, seats_near_limit, feature_demand, low_adoption]}}
            - {name: owner, in: query, schema: {type: string}}
            - {name: segment, in: query, schema: {type: string}}
            - {name: account, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
            - {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 1000000, default: 0}}
          responses:
            "200":
              description: A page of offers
              content: {application/json: {schema: {$ref: "#/components/schemas/OfferPage"}}}
              links:
                GetOffer: {operationId: getOffer, parameters: {id: "$response.body#/offers/0/id"}}
                DecideOffer: {operationId: decideOffer, parameters: {id: "$response.body#/offers/0/id"}}
                RecordOutcome: {operationId: recordOutcome, parameters: {id: "$response.body#/offers/0/id"}}
                AccountSignals: {operationId: accountSignals, parameters: {id: "$response.body#/offers/0/account_id"}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/offers/{id}:
        get:
          operationId: getOffer
          summary: One offer with its decision history
          parameters: [{$ref: "#/components/parameters/id"}]
          responses:
            "200": {description: The offer, content: {application/json: {schema: {$ref: "#/components/schemas/OfferWithEvents"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "404": {$ref: "#/components/responses/NotFound"}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/offers/{id}/decision:
        post:
          operationId: decideOffer
          summary: Approve, reject (reason required) or snooze (until required) a proposed offer
          parameters: [{$ref: "#/components/parameters/id"}]
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  oneOf:
                    - type: object
                      additionalProperties: false
                      required: [decision]
                      properties: {decision: {const: approve}, reason: {type: string}, version: {$ref: "#/components/schemas/Version"}}
                    - type: object
                      additionalProperties: false
                      required: [decision, reason]
                      properties: {decision: {const: reject}, reason: {type: string, pattern: '\\S'}, version: {$ref: "#/components/schemas/Version"}}
                    - type: object
                      additionalProperties: false
                      required: [decision, until]
                      properties: {decision: {const: snooze}, until: {$ref: "#/components/schemas/Day"}, reason: {type: string},
                                   version: {$ref: "#/components/schemas/Version"}}
          responses:
            "200": {description: The offer after the decision, content: {application/json: {schema: {$ref: "#/components/schemas/Offer"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "403": {$ref: "#/components/responses/Forbidden"}
            "404": {$ref: "#/components/responses/NotFound"}
            "409": {description: Decided meanwhile by someone else (says who), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "422": {description: "Not allowed from the offer's current status or on this day (e.g. a snooze that would already be over), or a missing reason or date", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/offers/{id}/outcome:
        post:
          operationId: recordOutcome
          summary: Record what the customer did with an approved offer
          parameters: [{$ref: "#/components/parameters/id"}]
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  oneOf:
                    - type: object
                      additionalProperties: false
                      required: [outcome]
                      properties: {outcome: {const: accepted}, reason: {type: string}, version: {$ref: "#/components/schemas/Version"}}
                    - type: object
                      additionalProperties: false
                      required: [outcome, reason_code]
                      properties: {outcome: {const: declined}, reason_code: {type: string, enum: [price, budget, timing, no_need, competitor, other]},
                                   reason: {type: string}, version: {$ref: "#/components/schemas/Version"}}
          responses:
            "200": {description: The offer after the outcome, content: {application/json: {schema: {$ref: "#/components/schemas/Offer"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "403": {$ref: "#/components/responses/Forbidden"}
            "404": {$ref: "#/components/responses/NotFound"}
            "409": {description: Changed meanwhile, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "422": {description: "Not allowed from the offer's current status, or a decline without a known reason_code", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/accounts/{id}/signals:
        get:
          operationId: accountSignals
          summary: The watcher's signals of one account
          parameters: [{$ref: "#/components/parameters/id"}, {$ref: "#/components/parameters/asOf"}]
          responses:
            "200": {description: "{as_of, account}: the signals object of `tierplan signals --json`", content: {application/json: {schema: {$ref: "#/components/schemas/AccountSignals"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "404": {$ref: "#/components/responses/NotFound"}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/forecast:
        get:
          operationId: forecast
          summary: ARPU forecast (the JSON of `tierplan forecast --json`)
          parameters:
            - {$ref: "#/components/parameters/asOf"}
            - {name: months, in: query, schema: {type: integer, minimum: 1, maximum: 120, default: 12}}
            - {name: churn, in: query, schema: {type: number, minimum: 0, exclusiveMaximum: 1}}
            - {name: model, in: query, schema: {type: string, enum: [history, flat], default: history}}
            - {name: lookback, in: query, schema: {type: integer, minimum: 1, maximum: 60, default: 6}}
          responses:
            "200": {description: The projection, content: {application/json: {schema: {$ref: "#/components/schemas/Forecast"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/forecast/backtest:
        get:
          operationId: backtest
          summary: The forecast replayed at past month ends against what happened (the JSON of `tierplan forecast backtest --json`)
          description: from must not be after to, and they may be at most ten years apart (400 otherwise).
          parameters:
            - {name: from, in: query, required: true, schema: {$ref: "#/components/schemas/Day"}}
            - {name: to, in: query, required: true, schema: {$ref: "#/components/schemas/Day"}}
            - {name: months, in: query, schema: {type: integer, minimum: 1, maximum: 24, default: 3}}
            - {name: model, in: query, schema: {type: string, enum: [history, flat, both], default: both}}
            - {name: lookback, in: query, schema: {type: integer, minimum: 1, maximum: 60, default: 6}}
          responses:
            "200": {description: "Per model and horizon: MAPE, bias, P10-P90 coverage; and every point", content: {application/json: {schema: {$ref: "#/components/schemas/Backtest"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "503": {$ref: "#/components/responses/Unavailable"}
      /api/v1/metrics:
        get:
          operationId: metrics
          summary: MRR, ARPU, movements, retention, CLTV, AOV, conversion, declines, calibration, experiments, realised expansion, uplift
          parameters: [{$ref: "#/components/parameters/asOf"}, {name: from, in: query, description: "start of the period, excluded (default and when not before as_of: 30 days before as_of)", schema: {$ref: "#/components/schemas/Day"}}]
          responses:
            "200": {description: The report (the JSON of `tierplan metrics --json`), content: {application/json: {schema: {$ref: "#/components/schemas/Metrics"}}}}
            "400": {$ref: "#/components/responses/BadRequest"}
            "401": {$ref: "#/components/responses/Unauthorized"}
            "503": {$ref: "#/components/responses/Unavailable"}
    """

    /// One operation of the document: its method, path, operationId, the query parameters it takes
    /// and whether it has a request body.
    struct Operation: Sendable {
        var method: String
        var path: String
        var operationID: String
        var queryParameters: Set<String>
        var hasBody: Bool
        /// The path as Hummingbird routes it (`{id}` → `:id`).
        var routerPath: String { path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "") }

        /// Whether a request path is this operation's (a `{name}` segment matches any one segment).
        func matches(path requested: String) -> Bool {
            let want = path.split(separator: "/", omittingEmptySubsequences: false)
            let got = requested.split(separator: "/", omittingEmptySubsequences: false)
            return want.count == got.count && zip(want, got).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    /// Every operation in the document, in document order: the routes the API registers.
    static let operations: [Operation] = {
        guard let root = try? Yams.compose(yaml: document), let paths = root["paths"]?.mapping,
              let shared = root["components"]?["parameters"]?.mapping else {
            preconditionFailure("the OpenAPI document does not parse")
        }
        func parameter(_ node: Node) -> Node? {
            guard let ref = node["$ref"]?.string else { return node }
            return shared[Node(String(ref.split(separator: "/").last ?? ""))]
        }
        var result: [Operation] = []
        for (pathNode, item) in paths {
            guard let path = pathNode.string, let methods = item.mapping else { continue }
            for (methodNode, operation) in methods {
                guard let method = methodNode.string, let id = operation["operationId"]?.string else { continue }
                let query = (operation["parameters"]?.sequence ?? []).compactMap(parameter)
                    .filter { $0["in"]?.string == "query" }.compactMap { $0["name"]?.string }
                result.append(Operation(method: method.uppercased(), path: path, operationID: id,
                                        queryParameters: Set(query), hasBody: operation["requestBody"] != nil))
            }
        }
        return result
    }()
}

/// The API's operations as documented, so a test can check each against its handler and schema.
public enum APIDocumentation {
    public static var operations: [(method: String, path: String, operationID: String)] {
        OpenAPI.operations.map { ($0.method, $0.path, $0.operationID) }
    }
    public static var document: String { OpenAPI.document }
}
