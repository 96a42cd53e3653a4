import FoundationEssentials

/// Any JSON value, for reading token responses whose field types vary by provider.
public enum JSONValue: Sendable, Equatable, Decodable {
    case string(String)
    case number(Double)
    /// An integer literal that fits Int64, kept exact (JSONReader only; a Double holds 2^53 at most).
    case integer(Int64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a JSON document from a server; nil when it is not valid JSON (or nests deeper
    /// than JSONReader allows). A repeated key counts once, the first time, as JSONDecoder
    /// has it. The byte-loop reader, not JSONDecoder, whose first use costs a refreshing
    /// launch about a millisecond.
    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONReader.parseAnswer(bytes)
    }

    /// "string", "number", … for messages.
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .number, .integer: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
