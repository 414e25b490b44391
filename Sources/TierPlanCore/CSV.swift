/// RFC 4180 CSV: fields separated by commas, optionally in double quotes ("" is a quote inside).
/// Quoted fields may hold commas and newlines; `line` is where each record starts.
public struct CSVReader: Sequence, IteratorProtocol {
    public struct Record {
        public var line: Int
        public var fields: [String]
    }

    private var bytes: ArraySlice<UInt8>
    private var position: Int
    private var line = 1

    public init(text: String) { self.init(bytes: ArraySlice(text.utf8)) }
    public init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    public mutating func next() -> Record? {
        // Skip blank lines between records.
        while position < bytes.endIndex, bytes[position] == 10 || bytes[position] == 13 {
            if bytes[position] == 10 { line += 1 }
            position += 1
        }
        guard position < bytes.endIndex else { return nil }
        let start = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        while position < bytes.endIndex {
            let b = bytes[position]
            position += 1
            if quoted {
                if b == 34 {
                    if position < bytes.endIndex, bytes[position] == 34 { field.append(34); position += 1 } else { quoted = false }
                } else {
                    if b == 10 { line += 1 }
                    field.append(b)
                }
                continue
            }
            switch b {
            case 34 where field.isEmpty: quoted = true
            case 44: fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            case 13 where position < bytes.endIndex && bytes[position] == 10: continue
            case 10:
                line += 1
                fields.append(String(decoding: field, as: UTF8.self))
                return Record(line: start, fields: fields)
            default: field.append(b)
            }
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return Record(line: start, fields: fields)
    }
}
