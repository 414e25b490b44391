import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import TierPlanCore
import TierPlanServer
import TierPlanStore
import XCTest

/// The "Pricing what-if" page (admins only): a catalog uploaded as a file (multipart) or pasted, the
/// side-by-side table and chart, a refused catalog shown with its line, and the CSRF token required.
final class WhatIfPageTests: XCTestCase {
    var url: String!
    var db: Connection!
    var catalogText: String!

    override func setUp() async throws {
        (url, db) = try ExamplesServer.database(users: [("rick", .reviewer), ("ada", .admin)])
        catalogText = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/catalog.yaml"), encoding: .utf8)
    }

    func withApp(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await ExamplesServer.withApp(url, body)
    }

    /// A multipart/form-data body as a browser sends it, the catalog as an uploaded file.
    static func multipart(_ fields: [(String, String)], file: String?, boundary: String) -> String {
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file == nil ? "" : "roomier.yaml")\"\r\n"
            + "Content-Type: application/x-yaml\r\n\r\n\(file ?? "")\r\n"
        return body + "--\(boundary)--\r\n"
    }

    func testAdminsUploadOrPasteACatalogAndSeeBothSides() async throws {
        let roomier = catalogText.replacingOccurrences(of: "storage_gb: 500", with: "storage_gb: 1000")
        let paste = catalogText.replacingOccurrences(of: "price_monthly: 7900", with: "price_monthly: 8900")
        let bad = catalogText.replacingOccurrences(of: "price_monthly: 2900", with: "price_monthly: -1")
        try await withApp { client in
            let rick = try await RouterTests.login(client, "rick", "password-rick")
            try await RouterTests.expect(try await RouterTests.get(client, "/whatif", rick), .forbidden)
            let ada = try await RouterTests.login(client, "ada", "password-ada")
            let page = String(buffer: try await RouterTests.get(client, "/whatif", ada).body)
            XCTAssertTrue(page.contains("enctype=\"multipart/form-data\""))
            XCTAssertTrue(page.contains("value=\"2026-11-01\""), "as_of defaults to the latest run")

            // Uploaded as a file.
            let boundary = "----tierplan\(UUID().uuidString.prefix(8))"
            let upload = try await client.execute(
                uri: "/whatif", method: .post,
                headers: [.cookie: ada.cookie, .contentType: "multipart/form-data; boundary=\(boundary)"],
                body: ByteBuffer(string: Self.multipart([("csrf", ada.csrf), ("catalog", ""), ("as_of", "2026-11-01"), ("months", "6"),
                                                         ("existing", "keep")], file: roomier, boundary: boundary)))
            XCTAssertEqual(upload.status, .ok)
            let html = String(buffer: upload.body)
            XCTAssertTrue(html.contains("id=\"whatif-table\""), String(html.prefix(2000)))
            XCTAssertTrue(html.contains("uploaded catalog against the loaded catalog, as of 2026-11-01"))
            XCTAssertTrue(html.contains("<svg id=\"whatif-chart\""))
            XCTAssertTrue(html.contains("MRR expected 2027-05"))
            XCTAssertFalse(html.contains("Unmapped accounts"), "no section when every account maps")

            // Pasted, repriced: the MRR row shows the change (Team $10 dearer on every paying Team account).
            let pasted = try await RouterTests.form(client, "/whatif", ada,
                                                    "csrf=\(ada.csrf)&as_of=2026-11-01&months=3&existing=reprice&catalog="
                                                        + paste.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            XCTAssertEqual(pasted.status, .ok)
            XCTAssertTrue(String(buffer: pasted.body).contains("pasted catalog against the loaded catalog"))
            XCTAssertTrue(String(buffer: pasted.body).contains("every account repriced under the what-if catalog"))

            // A refused catalog: 422 with the line and field, the text kept in the box.
            let refused = try await RouterTests.form(client, "/whatif", ada,
                                                     "csrf=\(ada.csrf)&catalog=" + bad.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            XCTAssertEqual(refused.status, .unprocessableContent)
            let refusedHTML = String(buffer: refused.body)
            XCTAssertTrue(refusedHTML.contains("pasted catalog:9:") && refusedHTML.contains("price_monthly"), refusedHTML)
            XCTAssertTrue(refusedHTML.contains("price_monthly: -1"), "the pasted text is shown again")
            // Nothing given, a bad date, bad months: 422 pages, never a 500.
            try await RouterTests.expect(try await RouterTests.form(client, "/whatif", ada, "csrf=\(ada.csrf)&catalog="), .unprocessableContent)
            try await RouterTests.expect(try await RouterTests.form(client, "/whatif", ada, "csrf=\(ada.csrf)&as_of=2026-13-45&catalog=x"), .unprocessableContent)
            try await RouterTests.expect(try await RouterTests.form(client, "/whatif", ada, "csrf=\(ada.csrf)&months=0&catalog=x"), .unprocessableContent)
            try await RouterTests.expect(try await RouterTests.form(client, "/whatif", ada, "csrf=\(ada.csrf)&existing=maybe&catalog=x"), .unprocessableContent)
            // A broken multipart body: refused (no token can be read from it), never a 500.
            let broken = try await client.execute(uri: "/whatif", method: .post,
                                                  headers: [.cookie: ada.cookie, .contentType: "multipart/form-data; boundary=zz"],
                                                  body: ByteBuffer(string: "--zz\r\nnonsense"))
            XCTAssertTrue([.badRequest, .forbidden].contains(broken.status), "\(broken.status)")
            // Without the token: refused.
            try await RouterTests.expect(try await RouterTests.form(client, "/whatif", ada, "csrf=wrong&catalog=x"), .forbidden)
        }
    }
}
