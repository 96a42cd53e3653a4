// A small strict JSON reader (RFC 8259) for the warm path: the vault header,
// a credential, the audit trail's last record. JSONDecoder builds generic
// metadata and scans every protocol conformance in the binary on first use,
// which measured as a third of a warm launch's instructions; this reads the
// same documents with a byte loop. Duplicate object keys are refused, and
// nesting is limited, so a hostile file cannot exhaust the stack. An integer
// literal that fits Int64 reads as `.integer`, exactly: a timestamp above 2^53
// must not come back rounded, nor make its record unreadable.

/// Why a document is not JSON; `offset` is where the reader stopped.
public struct JSONReadError: Error, Sendable, Equatable {
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
}

public enum JSONReader {
    static let maxDepth = 64

    /// Parses one JSON document (optionally surrounded by whitespace); a repeated member name is refused.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONReadError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { (buffer) throws(JSONReadError) -> JSONValue in try parse(buffer) }
    }

    /// The same for an array, in place. The concrete forms matter on the warm path: the generic
    /// one, called across modules unspecialized, costs a protocol-conformance scan per process.
    public static func parse(_ bytes: [UInt8]) throws(JSONReadError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONReadError) -> JSONValue in try parse(buffer) }
    }

    /// The same for a slice (a line of a file), in place.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONReadError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONReadError) -> JSONValue in try parse(buffer) }
    }

    /// Parses another server's answer as JSONDecoder reads it: a repeated member name counts
    /// once, the first time, so that a rotated refresh token is not lost to sloppy JSON.
    public static func parseAnswer(_ bytes: [UInt8]) throws(JSONReadError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONReadError) -> JSONValue in try parse(buffer, firstOfRepeatedKeys: true) }
    }

    /// Parses in place, without copying the bytes (a decrypted credential stays in its secure buffer).
    public static func parse(_ raw: UnsafeRawBufferPointer) throws(JSONReadError) -> JSONValue {
        try parse(raw.bindMemory(to: UInt8.self))
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, firstOfRepeatedKeys: Bool = false) throws(JSONReadError) -> JSONValue {
        var reader = Cursor(bytes: buffer)
        reader.firstOfRepeatedKeys = firstOfRepeatedKeys
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.position == buffer.count else { throw reader.error("text after the document") }
        return value
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var firstOfRepeatedKeys = false

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ reason: String) -> JSONReadError { JSONReadError(offset: position, reason: reason) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func expect(_ literal: StaticString, _ value: JSONValue) throws(JSONReadError) -> JSONValue {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("truncated literal") }
            for i in 0..<count where bytes[position + i] != literal.utf8Start[i] { throw error("unknown literal") }
            position += count
            return value
        }

        mutating func value(depth: Int) throws(JSONReadError) -> JSONValue {
            guard depth < JSONReader.maxDepth else { throw error("nested too deeply") }
            guard let byte = current else { throw error("unexpected end") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(JSONReadError) -> JSONValue {
            position += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                skipSpace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipSpace()
                let member = try value(depth: depth + 1)
                if members[key] == nil {
                    members[key] = member
                } else if !firstOfRepeatedKeys {
                    throw error("duplicate member name")
                }
                skipSpace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return .object(members)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONReadError) -> JSONValue {
            position += 1
            var elements: [JSONValue] = []
            skipSpace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipSpace()
                elements.append(try value(depth: depth + 1))
                skipSpace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"):
                    position += 1
                    return .array(elements)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func hexQuad() throws(JSONReadError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func string() throws(JSONReadError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes.
            while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { position += 1 }
            if current == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                guard let text = String(validating: slice, as: UTF8.self) else { throw error("not UTF-8") }
                position += 1
                return text
            }
            var scratch = Array(bytes[start..<position])
            while true {
                guard let byte = current else { throw error("unterminated string") }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: scratch, as: UTF8.self) else { throw error("not UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    guard let escape = current else { throw error("unterminated escape") }
                    position += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
                    case UInt8(ascii: "b"): scratch.append(0x08)
                    case UInt8(ascii: "f"): scratch.append(0x0C)
                    case UInt8(ascii: "n"): scratch.append(0x0A)
                    case UInt8(ascii: "r"): scratch.append(0x0D)
                    case UInt8(ascii: "t"): scratch.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hexQuad()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
                                bytes[position + 1] == UInt8(ascii: "u")
                            else { throw error("lone surrogate") }
                            position += 2
                            let low = try hexQuad()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw error("lone surrogate") }
                        scratch.append(contentsOf: String(Character(unicode)).utf8)
                    default: throw error("unknown escape")
                    }
                default:
                    guard byte >= 0x20 else { throw error("control character in a string") }
                    scratch.append(byte)
                }
            }
        }

        mutating func number() throws(JSONReadError) -> JSONValue {
            let start = position
            let negative = current == UInt8(ascii: "-")
            if negative { position += 1 }
            func digits(_ cursor: inout Cursor) -> Int {
                let from = cursor.position
                while let byte = cursor.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { cursor.position += 1 }
                return cursor.position - from
            }
            let leadingZero = current == UInt8(ascii: "0")
            let integerStart = position
            let integerDigits = digits(&self)
            guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { throw error("malformed number") }
            if current != UInt8(ascii: "."), current != UInt8(ascii: "e"), current != UInt8(ascii: "E"),
                let exact = Self.integer(UnsafeBufferPointer(rebasing: bytes[integerStart..<position]), negative: negative)
            {
                return .integer(exact)
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw error("malformed number") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("malformed number") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else { throw error("number out of range") }
            return .number(value)
        }

        /// The decimal `digits` as an Int64 (negated first, so Int64.min fits); nil when out of range.
        static func integer(_ digits: UnsafeBufferPointer<UInt8>, negative: Bool) -> Int64? {
            var value: Int64 = 0
            for byte in digits {
                let digit = Int64(byte - UInt8(ascii: "0"))
                let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowedAgain) =
                    negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                if overflowed || overflowedAgain { return nil }
                value = next
            }
            return value
        }
    }
}

extension JSONValue {
    /// The members of an object; nil for anything else.
    public var members: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The text of a string; nil for anything else.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// An integer, or a number that is a whole Int64 exactly; nil for anything else.
    public var int64Value: Int64? {
        if case .integer(let exact) = self { return exact }
        guard case .number(let number) = self, number == number.rounded(.towardZero),
            number >= -9_007_199_254_740_992, number <= 9_007_199_254_740_992
        else { return nil }
        return Int64(number)
    }
}

/// Reads typed members out of a JSON object, naming the first missing or mistyped one.
public struct JSONObjectReader {
    public let members: [String: JSONValue]

    public init(_ value: JSONValue) throws(JSONReadError) {
        guard let members = value.members else { throw JSONReadError(offset: 0, reason: "not an object") }
        self.members = members
    }

    func present(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    public func string(_ key: String) throws(JSONReadError) -> String {
        guard let value = try optionalString(key) else { throw JSONReadError(offset: 0, reason: "missing \"\(key)\"") }
        return value
    }

    public func optionalString(_ key: String) throws(JSONReadError) -> String? {
        guard let value = present(key) else { return nil }
        guard let text = value.stringValue else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
        return text
    }

    public func int64(_ key: String) throws(JSONReadError) -> Int64 {
        guard let value = try optionalInt64(key) else { throw JSONReadError(offset: 0, reason: "missing \"\(key)\"") }
        return value
    }

    public func optionalInt64(_ key: String) throws(JSONReadError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard let number = value.int64Value else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
        return number
    }

    public func optionalUInt64(_ key: String) throws(JSONReadError) -> UInt64? {
        guard let number = try optionalInt64(key) else { return nil }
        guard number >= 0 else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
        return UInt64(number)
    }

    public func optionalStrings(_ key: String) throws(JSONReadError) -> [String]? {
        guard let value = present(key) else { return nil }
        guard case .array(let elements) = value else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let text = element.stringValue else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
            result.append(text)
        }
        return result
    }

    public func object(_ key: String) throws(JSONReadError) -> JSONObjectReader? {
        guard let value = present(key) else { return nil }
        return try JSONObjectReader(value)
    }

    public func array(_ key: String) throws(JSONReadError) -> [JSONValue] {
        guard let value = present(key) else { throw JSONReadError(offset: 0, reason: "missing \"\(key)\"") }
        guard case .array(let elements) = value else { throw JSONReadError(offset: 0, reason: "wrong type at \(key)") }
        return elements
    }
}
