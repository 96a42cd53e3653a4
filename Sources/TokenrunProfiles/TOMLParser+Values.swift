// Values other than strings: arrays, inline tables, booleans and integers.
// Arrays and inline tables are parsed without recursion, with an explicit
// stack of open containers, so stack use does not grow with nesting (and
// nesting is capped at TOMLParser.maxDepth anyway).

/// An array or inline table whose closing bracket has not been read yet.
final class TOMLOpenContainer {
    /// Offset of the opening `[` or `{`.
    let open: Int
    /// Depth of the container itself.
    let depth: Int
    /// The table being filled, or nil for an array.
    let table: TOMLTableBuilder?
    /// Array elements read so far.
    var elements: [TOMLValue] = []
    /// Inline table: the key whose value is being read.
    var key: [TOMLKeyPart] = []

    init(open: Int, depth: Int, table: TOMLTableBuilder?) {
        self.open = open
        self.depth = depth
        self.table = table
    }
}

extension TOMLDocumentParser {
    /// A value of any kind; `depth` is the depth it will sit at.
    mutating func parseValue(depth startDepth: Int) throws(TOMLError) -> TOMLValue {
        var stack: [TOMLOpenContainer] = []
        defer {
            // Only left non-empty by an error.
            for container in stack { container.table?.dismantle() }
        }
        // Depth of the value about to be read.
        var depth = startDepth
        nextValue: while true {
            var value: TOMLValue
            switch byte(pos) {
            case UInt8(ascii: "["):
                if depth > TOMLParser.maxDepth { throw tooDeep(at: pos) }
                let container = TOMLOpenContainer(open: pos, depth: depth, table: nil)
                pos += 1
                try skipArraySpace()
                if byte(pos) == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    try checkArrayElementStart(container)
                    stack.append(container)
                    depth = container.depth + 1
                    continue nextValue
                }
            case UInt8(ascii: "{"):
                if depth > TOMLParser.maxDepth { throw tooDeep(at: pos) }
                let table = TOMLTableBuilder(kind: .inline, line: line(of: pos), depth: depth)
                let container = TOMLOpenContainer(open: pos, depth: depth, table: table)
                pos += 1
                skipWhitespace()
                if byte(pos) == UInt8(ascii: "}") {
                    pos += 1
                    value = .table(table.build())
                } else {
                    container.key = try parseInlineKey(container)
                    stack.append(container)
                    depth = container.depth + container.key.count
                    continue nextValue
                }
            default:
                value = try parseSimpleValue()
            }

            // Hand the value to the innermost open container; close containers
            // as their closing brackets come, until one wants another value.
            while let container = stack.last {
                if let table = container.table {
                    try insert(value, at: container.key, into: table)
                    skipWhitespace()
                    switch byte(pos) {
                    case UInt8(ascii: ","):
                        let comma = pos
                        pos += 1
                        skipWhitespace()
                        if byte(pos) == UInt8(ascii: "}") {
                            throw error("trailing comma is not allowed in an inline table", at: comma)
                        }
                        container.key = try parseInlineKey(container)
                        depth = container.depth + container.key.count
                        continue nextValue
                    case UInt8(ascii: "}"):
                        pos += 1
                        stack.removeLast()
                        value = .table(table.build())
                        table.dismantle()
                    case 0, 0x0A, 0x0D, UInt8(ascii: "#"):
                        throw unclosedInlineTable(container)
                    default:
                        throw inlineTableSeparatorError(container)
                    }
                } else {
                    container.elements.append(value)
                    try skipArraySpace()
                    switch byte(pos) {
                    case UInt8(ascii: ","):
                        pos += 1
                        try skipArraySpace()
                        if byte(pos) == UInt8(ascii: "]") {
                            pos += 1
                            stack.removeLast()
                            value = .array(container.elements)
                        } else {
                            try checkArrayElementStart(container)
                            depth = container.depth + 1
                            continue nextValue
                        }
                    case UInt8(ascii: "]"):
                        pos += 1
                        stack.removeLast()
                        value = .array(container.elements)
                    case 0:
                        throw unclosedArray(container)
                    default:
                        throw arraySeparatorError(container)
                    }
                }
            }
            return value
        }
    }

    /// Strings, booleans and integers.
    private mutating func parseSimpleValue() throws(TOMLError) -> TOMLValue {
        switch byte(pos) {
        case UInt8(ascii: "\""):
            if byte(pos + 1) == UInt8(ascii: "\"") && byte(pos + 2) == UInt8(ascii: "\"") {
                return .string(try parseMultilineBasicString())
            }
            return .string(try parseBasicString())
        case UInt8(ascii: "'"):
            if byte(pos + 1) == UInt8(ascii: "'") && byte(pos + 2) == UInt8(ascii: "'") {
                return .string(try parseMultilineLiteralString())
            }
            return .string(try parseLiteralString())
        default:
            return try parseScalar()
        }
    }

    // MARK: Arrays

    /// Whitespace, newlines and comments between array elements.
    private mutating func skipArraySpace() throws(TOMLError) {
        while true {
            switch byte(pos) {
            case 0x20, 0x09, 0x0A: pos += 1
            case 0x0D: pos += 2
            case UInt8(ascii: "#"): try skipComment()
            default: return
            }
        }
    }

    /// Where an element should start: anything but the end of input or a comma.
    private func checkArrayElementStart(_ container: TOMLOpenContainer) throws(TOMLError) {
        switch byte(pos) {
        case 0: throw unclosedArray(container)
        case UInt8(ascii: ","): throw error("expected a value or ']' in array, found ','", at: pos)
        default: return
        }
    }

    private func unclosedArray(_ container: TOMLOpenContainer) -> TOMLError {
        error("unclosed array (opened on line \(line(of: container.open))): missing ']'", at: container.open)
    }

    private func arraySeparatorError(_ container: TOMLOpenContainer) -> TOMLError {
        error(
            "expected ',' or ']' after array element (array opened on line \(line(of: container.open))), found \(describe(pos))",
            at: pos)
    }

    // MARK: Inline tables

    /// The next `key =` in an inline table, which must be on the same line.
    private mutating func parseInlineKey(_ container: TOMLOpenContainer) throws(TOMLError) -> [TOMLKeyPart] {
        switch byte(pos) {
        case 0, 0x0A, 0x0D, UInt8(ascii: "#"):
            throw unclosedInlineTable(container)
        default:
            return try parseKeyAndEquals(depth: container.depth)
        }
    }

    private func unclosedInlineTable(_ container: TOMLOpenContainer) -> TOMLError {
        error(
            "unclosed inline table (opened on line \(line(of: container.open))): missing '}' (an inline table must be on one line)",
            at: container.open)
    }

    private func inlineTableSeparatorError(_ container: TOMLOpenContainer) -> TOMLError {
        error("expected ',' or '}' in inline table, found \(describe(pos))", at: pos)
    }

    // MARK: Scalars

    /// Booleans and decimal integers, the only other values a profile holds. A date-time,
    /// a float or a 0x/0o/0b integer is valid TOML, but no key takes one: it is recognised
    /// only to say so and how to write it instead.
    private mutating func parseScalar() throws(TOMLError) -> TOMLValue {
        let start = pos
        while Self.isScalarByte(byte(pos)) { pos += 1 }
        // `1979-05-27 07:32:00`: a date, one space, then a time; quoted whole in the message.
        if pos - start == 10 && byte(start + 4) == UInt8(ascii: "-") && byte(pos) == 0x20
            && Self.isDigit(byte(pos + 1)) && Self.isDigit(byte(pos + 2)) && byte(pos + 3) == UInt8(ascii: ":")
        {
            pos += 1
            while Self.isScalarByte(byte(pos)) { pos += 1 }
        }
        guard pos > start else {
            throw error("expected a value, found \(describe(start))", at: start)
        }
        let token = Array(bytes[start..<pos])
        let text = Self.shortText(token)
        let first = token[0]
        // Only a word can be a boolean, inf or nan (and integers skip the case folding).
        if !Self.isDigit(first) {
            switch text {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            default: break
            }
            switch text.lowercased() {
            case "true", "false":
                throw error("invalid value \"\(text)\": booleans are written in lower case (true, false)", at: start)
            case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
                throw fractionNotAllowed(at: start)
            default: break
            }
        }
        if Self.looksLikeDateTime(token) {
            throw notAllowed("a date-time", fix: "write it as a string: \"\(text)\"", at: start)
        }
        guard
            Self.isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
                || first == UInt8(ascii: "_")
        else {
            throw error("invalid value \"\(text)\" (a string must be in quotes)", at: start)
        }
        return try parseInteger(token, text: text, at: start)
    }

    /// The token for a message, cut short if long.
    private static func shortText(_ token: [UInt8]) -> String {
        if token.count <= 40 { return String(decoding: token, as: UTF8.self) }
        return String(decoding: token.prefix(40), as: UTF8.self) + "…"
    }

    private static func isScalarByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"),
            UInt8(ascii: "."), UInt8(ascii: ":"):
            true
        default:
            false
        }
    }

    /// Starts like a date (`dddd-`) or a time (`dd:`).
    private static func looksLikeDateTime(_ t: [UInt8]) -> Bool {
        if t.count >= 5 && Self.isDigit(t[0]) && Self.isDigit(t[1]) && Self.isDigit(t[2]) && Self.isDigit(t[3]) && t[4] == UInt8(ascii: "-")
        {
            return true
        }
        return t.count >= 3 && Self.isDigit(t[0]) && Self.isDigit(t[1]) && t[2] == UInt8(ascii: ":")
    }

    private func fractionNotAllowed(at offset: Int) -> TOMLError {
        notAllowed("a number with a fraction or exponent", fix: "write a whole number", at: offset)
    }

    // MARK: Integers

    /// A decimal integer: an optional sign, digits with single underscores between them,
    /// no leading zero, within 64 bits.
    private func parseInteger(_ t: [UInt8], text: String, at start: Int) throws(TOMLError) -> TOMLValue {
        func invalid(_ reason: String) -> TOMLError {
            error("invalid number \"\(text)\": \(reason)", at: start)
        }
        var i = 0
        let negative = t[0] == UInt8(ascii: "-")
        if negative || t[0] == UInt8(ascii: "+") { i = 1 }
        guard i < t.count else { throw invalid("a sign must be followed by digits") }
        if t[i] == UInt8(ascii: "0") && i + 1 < t.count
            && (t[i + 1] == UInt8(ascii: "x") || t[i + 1] == UInt8(ascii: "o") || t[i + 1] == UInt8(ascii: "b"))
        {
            throw radixNotAllowed(t, from: i, at: start)
        }
        if t[i] == UInt8(ascii: ".") { throw fractionNotAllowed(at: start) }
        let digitsStart = i
        while i < t.count && (Self.isDigit(t[i]) || t[i] == UInt8(ascii: "_")) {
            if t[i] == UInt8(ascii: "_")
                && (i == digitsStart || !Self.isDigit(t[i - 1]) || i + 1 == t.count || !Self.isDigit(t[i + 1]))
            {
                throw invalid("an underscore must be between two digits")
            }
            i += 1
        }
        guard i > digitsStart else { throw invalid("expected digits") }
        if i < t.count {
            switch t[i] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): throw fractionNotAllowed(at: start)
            default: throw invalid("unexpected '\(Character(Unicode.Scalar(t[i])))'")
            }
        }
        if t[digitsStart] == UInt8(ascii: "0") && i - digitsStart > 1 { throw invalid("leading zeros are not allowed") }
        var magnitude: UInt64 = 0
        var overflow = false
        for b in t[digitsStart..<i] where b != UInt8(ascii: "_") {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            overflow = overflow || overflow1 || overflow2
            magnitude = sum
        }
        guard !overflow, magnitude <= UInt64(Int64.max) + (negative ? 1 : 0) else {
            throw error("integer \"\(text)\" is out of range (integers must fit in 64 bits)", at: start)
        }
        return .integer(negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude))
    }

    /// `0x…`, `0o…` or `0b…` at `prefix`: refused, with the number in decimal when it is one.
    private func radixNotAllowed(_ t: [UInt8], from prefix: Int, at start: Int) -> TOMLError {
        let radix: UInt32 = t[prefix + 1] == UInt8(ascii: "x") ? 16 : t[prefix + 1] == UInt8(ascii: "o") ? 8 : 2
        let digits = t[(prefix + 2)...].filter { $0 != UInt8(ascii: "_") }
        var fix = "write the number in decimal"
        if !digits.isEmpty, digits.allSatisfy({ (Self.hexValue($0) ?? radix) < radix }),
            let value = Int64(String(decoding: digits, as: UTF8.self), radix: Int(radix))
        {
            fix += ": \(t[0] == UInt8(ascii: "-") ? "-" : "")\(value)"
        }
        return notAllowed("a hexadecimal, octal or binary number", fix: fix, at: start)
    }
}
