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
        asOf: {name: as_of, in: query, required: false, description: "YYYY-MM-DD (default: the latest run's as_of)", schema: {type: string, format: date}}
      schemas:
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
                     acceptance_probability, expected_delta_mrr, reasons, rationale, status, version]
          properties:
            id: {type: string, format: uuid}
            account_id: {type: string}
            kind: {type: string, enum: [tier_upgrade, addon, adoption]}
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
        Event:
          type: object
          properties: {from_status: {type: [string, "null"]}, to_status: {type: string}, actor: {type: string}, reason: {type: [string, "null"]}, at: {type: string}}
    security:
      - bearer: []
    paths:
      /api/v1/offers:
        get:
          summary: Offers, highest expected delta first
          parameters:
            - {name: status, in: query, schema: {type: string}}
            - {name: kind, in: query, schema: {type: string}}
            - {name: reason, in: query, schema: {type: string}}
            - {name: owner, in: query, schema: {type: string}}
            - {name: segment, in: query, schema: {type: string}}
            - {name: account, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
            - {name: offset, in: query, schema: {type: integer, minimum: 0}}
          responses:
            "200":
              description: A page of offers
              content:
                application/json:
                  schema:
                    type: object
                    properties: {offers: {type: array, items: {$ref: "#/components/schemas/Offer"}}, total: {type: integer, description: "matching offers, counted up to 1,001"}, total_is_lower_bound: {type: boolean}, limit: {type: integer}, offset: {type: integer}}
            "400": {description: Bad filter, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "401": {description: Not signed in}
      /api/v1/offers/{id}:
        get:
          summary: One offer with its decision history
          parameters: [{$ref: "#/components/parameters/id"}]
          responses:
            "200":
              description: The offer
              content:
                application/json:
                  schema: {type: object, properties: {offer: {$ref: "#/components/schemas/Offer"}, events: {type: array, items: {$ref: "#/components/schemas/Event"}}}}
            "401": {description: Not signed in}
            "404": {description: No such offer, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      /api/v1/offers/{id}/decision:
        post:
          summary: Approve, reject (reason required) or snooze (until required) a proposed offer
          parameters: [{$ref: "#/components/parameters/id"}]
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [decision]
                  properties:
                    decision: {type: string, enum: [approve, reject, snooze]}
                    reason: {type: string}
                    until: {type: string, format: date}
                    version: {type: integer, description: "the version the decision was made on; a stale one gets 409"}
          responses:
            "200": {description: The offer after the decision, content: {application/json: {schema: {$ref: "#/components/schemas/Offer"}}}}
            "400": {description: Malformed body, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "401": {description: Not signed in}
            "403": {description: Needs the reviewer role, or a CSRF token}
            "404": {description: No such offer}
            "409": {description: Decided meanwhile by someone else (says who), content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            "422": {description: Not allowed from the current status, or a missing reason or date}
      /api/v1/offers/{id}/outcome:
        post:
          summary: Record what the customer did with an approved offer
          parameters: [{$ref: "#/components/parameters/id"}]
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [outcome]
                  properties: {outcome: {type: string, enum: [accepted, declined]}, reason: {type: string}, version: {type: integer}}
          responses:
            "200": {description: The offer after the outcome, content: {application/json: {schema: {$ref: "#/components/schemas/Offer"}}}}
            "400": {description: Malformed body}
            "401": {description: Not signed in}
            "403": {description: Needs the reviewer role}
            "404": {description: No such offer}
            "409": {description: Changed meanwhile}
            "422": {description: Not allowed from the current status}
      /api/v1/accounts/{id}/signals:
        get:
          summary: The watcher's signals of one account
          parameters: [{$ref: "#/components/parameters/id"}, {$ref: "#/components/parameters/asOf"}]
          responses:
            "200": {description: "{as_of, account}: the signals object of `tierplan signals --json`", content: {application/json: {schema: {type: object}}}}
            "400": {description: Bad date}
            "401": {description: Not signed in}
            "404": {description: No such account}
      /api/v1/forecast:
        get:
          summary: ARPU forecast (the JSON of `tierplan forecast --json`)
          parameters:
            - {$ref: "#/components/parameters/asOf"}
            - {name: months, in: query, schema: {type: integer, minimum: 1, maximum: 120}}
            - {name: churn, in: query, schema: {type: number, minimum: 0, exclusiveMaximum: 1}}
            - {name: model, in: query, schema: {type: string, enum: [history, flat], default: history}}
            - {name: lookback, in: query, schema: {type: integer, minimum: 1, maximum: 60, default: 6}}
          responses:
            "200": {description: The projection, content: {application/json: {schema: {type: object}}}}
            "400": {description: Bad parameter}
            "401": {description: Not signed in}
      /api/v1/forecast/backtest:
        get:
          summary: The forecast replayed at past month ends against what happened (the JSON of `tierplan forecast backtest --json`)
          parameters:
            - {name: from, in: query, required: true, schema: {type: string, format: date}}
            - {name: to, in: query, required: true, schema: {type: string, format: date}}
            - {name: months, in: query, schema: {type: integer, minimum: 1, maximum: 24, default: 3}}
            - {name: model, in: query, schema: {type: string, enum: [history, flat, both], default: both}}
            - {name: lookback, in: query, schema: {type: integer, minimum: 1, maximum: 60, default: 6}}
          responses:
            "200": {description: "Per model and horizon: MAPE, bias, P10-P90 coverage; and every point", content: {application/json: {schema: {type: object}}}}
            "400": {description: Bad parameter}
            "401": {description: Not signed in}
      /api/v1/metrics:
        get:
          summary: MRR, ARPU, movements, offers by status, conversion, realised expansion, uplift
          parameters: [{$ref: "#/components/parameters/asOf"}, {name: from, in: query, schema: {type: string, format: date}}]
          responses:
            "200": {description: The report (the JSON of `tierplan metrics --json`), content: {application/json: {schema: {type: object}}}}
            "400": {description: Bad date}
            "401": {description: Not signed in}
    """

    /// (method, path) of every operation in the document, for the test that keeps it in step.
    static var operations: [(method: String, path: String)] {
        var result: [(String, String)] = []
        var path: String?
        for line in document.split(separator: "\n") {
            if line.hasPrefix("  /api/"), line.hasSuffix(":") { path = String(line.dropFirst(2).dropLast()); continue }
            if !line.hasPrefix("  ") || (line.hasPrefix("  ") && !line.hasPrefix("   ") && !line.hasPrefix("  /")) { path = nil }
            if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(method) { result.append((method, path)) }
            }
        }
        return result
    }
}

/// The API's routes as registered and as documented, so a test can keep them in step.
public enum APIDocumentation {
    public static var documented: [(method: String, path: String)] { OpenAPI.operations }
    public static var routed: [(method: String, path: String)] { APIRoutes.routes }
}
