import FuzzSupport
import TierPlanCore

/// One input is a whole usage file, split into lines the way `LineReader.forEachLine` does
/// (LF, an optional CR before it, a last line without LF), a leading UTF-8 BOM skipped, then
/// each line parsed as `usage ingest` does: blank lines skipped, the CSV header on line 1
/// skipped, every other line an event or an InputError naming that line. The same bytes are
/// parsed as the detected format and as the other one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUsage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    var body = bytes[...]
    if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
    let detected = UsageFormat.detect(fileName: nil, firstBytes: body.prefix(4096))
    ingest(body, format: detected)
    ingest(body, format: detected == .csv ? .ndjson : .csv)
    return 0
}

func ingest(_ body: ArraySlice<UInt8>, format: UsageFormat) {
    let parser = UsageLineParser(file: "fuzz.\(format.rawValue)", format: format)
    var number = 0
    var start = body.startIndex
    while start < body.endIndex {
        let newline = body[start...].firstIndex(of: 10)
        var end = newline ?? body.endIndex
        if end > start, body[end - 1] == 13 { end -= 1 }
        number += 1
        line(body[start..<end], number, parser)
        start = (newline ?? body.endIndex) + 1
    }
}

func line(_ bytes: ArraySlice<UInt8>, _ number: Int, _ parser: UsageLineParser) {
    if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return }
    if number == 1 && parser.isHeader(bytes) { return }
    switch parser.parse(bytes, number: number) {
    case .success(let event):
        switch event {
        case .storage(let id, let account, let at, let size):
            precondition(!id.isEmpty && id.utf8.count <= 200 && !account.isEmpty && size >= 0)
            _ = at.iso
        case .feature(let id, let account, let user, let feature, let at, let count):
            precondition(!id.isEmpty && id.utf8.count <= 200 && !account.isEmpty && !user.isEmpty && !feature.isEmpty && count >= 1)
            _ = at.iso
        }
    case .failure(let error):
        precondition(error.file == parser.file && error.line == number, "error not on line \(number): \(error)")
        _ = error.description
    }
}

@main struct Main {
    static func main() { runFuzzer(fuzzUsage) }
}
