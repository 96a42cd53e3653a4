// The value model produced by TOMLParser: plain values plus, for every key,
// the line it was written on, so that profile validation can point at the
// offending line ("line 12: expected string, found integer").

/// A TOML value as written in a file, with where it was written.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// "string", "integer", "boolean", "array", "table": used in "expected X, found Y" messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A table: keys in definition order, each with the line it was written on.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let key: String
        public var value: TOMLValue
        /// 1-based line of the key (for `[table]` / `[[array]]` values: the header's line).
        public let line: Int
    }

    /// Entries in definition order.
    public private(set) var entries: [Entry]
    /// Line where this table was opened (1 for the root table).
    public let line: Int
    /// Key -> index into `entries`, so lookups stay O(1) on large tables.
    private var index: [String: Int]

    /// Keys must be unique; a later duplicate would be unreachable by key.
    init(line: Int, entries: [Entry]) {
        self.line = line
        self.entries = entries
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() where index[entry.key] == nil {
            index[entry.key] = position
        }
        self.index = index
    }

    public subscript(key: String) -> TOMLValue? {
        entry(key)?.value
    }

    public func entry(_ key: String) -> Entry? {
        guard let position = index[key] else { return nil }
        return entries[position]
    }

    public var keys: [String] {
        entries.map(\.key)
    }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.line == rhs.line && lhs.entries == rhs.entries
    }
}

/// A syntax or structure error, with the 1-based line and column it was found at.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line.
    public let line: Int
    /// 1-based column, counted in Unicode scalars.
    public let column: Int
    /// Lower-case sentence without a trailing period,
    /// e.g. `duplicate key "client_id" (first defined on line 4)`.
    public let message: String
    /// The file is valid TOML, but holds a kind of value no key takes (a date-time, a
    /// float, a 0x/0o/0b integer); `message` says which and how to write it instead.
    public var isValidTOML = false

    public var description: String { "line \(line), column \(column): \(message)" }

    /// The message for a `ProfileDiagnostic`, which names the file and line.
    public var diagnosticMessage: String {
        (isValidTOML ? message : "invalid TOML: \(message)") + " (column \(column))"
    }
}
