/// One thing wrong in an input file, located precisely enough to fix it: file, line, field, value.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var field: String?
    public var value: String?
    public var reason: String

    public init(file: String, line: Int, field: String? = nil, value: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        self.reason = reason
    }

    public var description: String {
        var text = "\(file):\(line):"
        if let field { text += " field '\(field)'" }
        if let value { text += " value '\(value.count > 80 ? String(value.prefix(77)) + "..." : value)'" }
        return text + (field == nil && value == nil ? " " : ": ") + reason
    }
}

/// Several input errors found in one pass; the input is refused as a whole.
public struct InputErrors: Error, CustomStringConvertible, Sendable {
    public let errors: [InputError]
    public init(_ errors: [InputError]) { self.errors = errors }

    public var description: String {
        let shown = errors.prefix(20).map(\.description)
        var text = shown.joined(separator: "\n")
        if errors.count > shown.count { text += "\n… and \(errors.count - shown.count) more" }
        return text
    }
}
