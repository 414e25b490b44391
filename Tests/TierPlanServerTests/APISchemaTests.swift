import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import TierPlanServer
import XCTest
import Yams

/// A real response of every API operation against the schema the OpenAPI document gives it: every
/// required key present, no key the schema does not declare, types, enums and formats as declared.
extension RouterTests {
    func testEveryAPIResponseMatchesItsSchema() async throws {
        let document = try XCTUnwrap(try Yams.load(yaml: APIDocumentation.document) as? [String: Any])
        let validator = SchemaValidator(document: document)
        let id = try offerID()
        let viewer = tokens[.viewer]!, reviewer = tokens[.reviewer]!
        // One request per operation (operationId → the request that exercises it), and the status it must get.
        let requests: [String: (method: HTTPRequest.Method, uri: String, body: String?)] = [
            "listOffers": (.get, "/api/v1/offers?limit=5", nil),
            "getOffer": (.get, "/api/v1/offers/\(id)", nil),
            "decideOffer": (.post, "/api/v1/offers/\(id)/decision", #"{"decision": "approve"}"#),
            "recordOutcome": (.post, "/api/v1/offers/\(id)/outcome", #"{"outcome": "accepted"}"#),
            "accountSignals": (.get, "/api/v1/accounts/acme/signals?as_of=2026-11-01", nil),
            "forecast": (.get, "/api/v1/forecast?as_of=2026-11-01&months=3", nil),
            "backtest": (.get, "/api/v1/forecast/backtest?from=2026-01-31&to=2026-10-31&months=1", nil),
            "metrics": (.get, "/api/v1/metrics?as_of=2026-11-01", nil),
        ]
        XCTAssertEqual(Set(requests.keys), Set(APIDocumentation.operations.map(\.operationID)), "a request for every operation")
        try await withApp { client in
            // In document order, so the decision comes before the outcome.
            for operation in APIDocumentation.operations {
                let request = try XCTUnwrap(requests[operation.operationID])
                let response: TestResponse
                if let body = request.body {
                    response = try await Self.postJSON(client, request.uri, token: reviewer, body)
                } else {
                    response = try await Self.get(client, request.uri, token: viewer)
                }
                XCTAssertEqual(response.status, .ok, "\(operation.operationID): \(String(buffer: response.body).prefix(300))")
                let schema = try validator.responseSchema(path: operation.path, method: operation.method, status: "200")
                let value = try JSONDecoder().decode(JSON.self, from: Data(buffer: response.body))
                let problems = validator.validate(value, schema, at: operation.operationID)
                XCTAssertEqual(problems, [], "\(operation.operationID)")
            }
            // An error response has the Error schema too.
            let missing = try await Self.get(client, "/api/v1/offers/00000000-0000-0000-0000-000000000000", token: viewer)
            XCTAssertEqual(missing.status, .notFound)
            let error = try JSONDecoder().decode(JSON.self, from: Data(buffer: missing.body))
            XCTAssertEqual(validator.validate(error, ["$ref": "#/components/schemas/Error"], at: "404"), [])
        }
    }

    /// The validator itself refuses what it should (so a green run above means something).
    func testTheSchemaValidatorRefusesWrongShapes() throws {
        let document = try XCTUnwrap(try Yams.load(yaml: APIDocumentation.document) as? [String: Any])
        let v = SchemaValidator(document: document)
        let error: [String: Any] = ["$ref": "#/components/schemas/Error"]
        XCTAssertEqual(v.validate(.object(["error": .string("x")]), error, at: "e"), [])
        XCTAssertEqual(v.validate(.object([:]), error, at: "e"), ["e: missing required key error"])
        XCTAssertEqual(v.validate(.object(["error": .string("x"), "extra": .null]), error, at: "e"), ["e: key extra is not in the schema"])
        XCTAssertEqual(v.validate(.object(["error": .integer(1)]), error, at: "e"), ["e.error: expected string, got integer"])
        XCTAssertEqual(v.validate(.number(1.5), ["type": "integer"], at: "n"), ["n: expected integer, got number"])
        XCTAssertEqual(v.validate(.integer(1), ["type": "number"], at: "n"), [])
        XCTAssertEqual(v.validate(.string("2026-13-01"), ["type": "string", "format": "date"], at: "d"), ["d: not a date: 2026-13-01"])
        XCTAssertEqual(v.validate(.string("zap"), ["type": "string", "enum": ["a", "b"]], at: "k"), ["k: zap is not one of a, b"])
        XCTAssertEqual(v.validate(.null, ["type": ["string", "null"]], at: "s"), [])
    }
}

typealias JSON = JSONValue

/// The subset of JSON Schema the document uses: $ref, type (one or a list), enum, format date/uuid,
/// pattern, minItems/maxItems, required, properties (strict: no undeclared key unless additionalProperties), additionalProperties, items.
struct SchemaValidator: @unchecked Sendable {   // an immutable parsed document
    let document: [String: Any]

    func responseSchema(path: String, method: String, status: String) throws -> [String: Any] {
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        let operation = try XCTUnwrap((paths[path] as? [String: Any])?[method.lowercased()] as? [String: Any], "\(method) \(path)")
        let response = try XCTUnwrap((operation["responses"] as? [String: Any])?[status] as? [String: Any], "\(path) \(status)")
        let content = try XCTUnwrap(response["content"] as? [String: Any], "\(path) \(status) has content")
        return try XCTUnwrap((content["application/json"] as? [String: Any])?["schema"] as? [String: Any])
    }

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return resolve(node as? [String: Any] ?? [:])
    }

    func validate(_ value: JSON, _ raw: [String: Any], at path: String) -> [String] {
        let schema = resolve(raw)
        var problems: [String] = []
        let types: [String] = (schema["type"] as? [String]) ?? ((schema["type"] as? String).map { [$0] } ?? [])
        if !types.isEmpty {
            let ok = types.contains(value.typeName) || (value.typeName == "integer" && types.contains("number"))
            if !ok { return ["\(path): expected \(types.joined(separator: " or ")), got \(value.typeName)"] }
        }
        switch value {
        case .string(let text):
            if let allowed = schema["enum"] as? [Any] {
                let names = allowed.map { "\($0)" }
                if !names.contains(text) { problems.append("\(path): \(text) is not one of \(names.joined(separator: ", "))") }
            }
            if schema["format"] as? String == "date", !Self.isDate(text) { problems.append("\(path): not a date: \(text)") }
            if schema["format"] as? String == "uuid", UUID(uuidString: text) == nil { problems.append("\(path): not a uuid: \(text)") }
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): \(text) does not match \(pattern)")
            }
        case .array(let items):
            if let least = schema["minItems"] as? Int, items.count < least { problems.append("\(path): \(items.count) items, at least \(least) expected") }
            if let most = schema["maxItems"] as? Int, items.count > most { problems.append("\(path): \(items.count) items, at most \(most) expected") }
            if let itemSchema = schema["items"] as? [String: Any] {
                for (i, item) in items.enumerated() { problems += validate(item, itemSchema, at: "\(path)[\(i)]") }
            }
        case .object(let fields):
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in (schema["required"] as? [String] ?? []) where fields[key] == nil { problems.append("\(path): missing required key \(key)") }
            for (key, field) in fields.sorted(by: { $0.key < $1.key }) {
                if let property = properties[key] as? [String: Any] {
                    problems += validate(field, property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    problems += validate(field, additional, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool != true {
                    problems.append("\(path): key \(key) is not in the schema")
                }
            }
        default: break
        }
        return problems
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        guard text.count == 10, parts.count == 3, let m = Int(parts[1]), let d = Int(parts[2]), Int(parts[0]) != nil else { return false }
        return (1...12).contains(m) && (1...31).contains(d)
    }
}
