// Values other than strings: arrays, inline tables, booleans, numbers and
// date-times. Arrays and inline tables are parsed without recursion, with an
// explicit stack of open containers, so stack use does not grow with nesting
// (and nesting is capped at TOMLParser.maxDepth anyway).

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

    /// Strings, booleans, numbers and date-times.
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

    /// Booleans, numbers and date-times: a run of value characters (plus the
    /// space between a date and a time), then classified.
    private mutating func parseScalar() throws(TOMLError) -> TOMLValue {
        let start = pos
        while Self.isScalarByte(byte(pos)) { pos += 1 }
        // `1979-05-27 07:32:00`: a date, one space, then a time.
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
        if token.count <= 5 {
            switch String(decoding: token, as: UTF8.self) {
            case "true": return .boolean(true)
            case "false": return .boolean(false)
            case "inf", "+inf": return .float(.infinity)
            case "-inf": return .float(-.infinity)
            case "nan", "+nan", "-nan": return .float(.nan)
            default: break
            }
        }
        let text = Self.shortText(token)
        if Self.looksLikeDateTime(token) {
            if let problem = Self.dateTimeProblem(token) {
                throw error("invalid date-time \"\(text)\": \(problem)", at: start)
            }
            return .datetime(String(decoding: token, as: UTF8.self))
        }
        let first = token[0]
        if Self.isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
            || first == UInt8(ascii: "_")
        {
            return try parseNumber(token, text: text, at: start)
        }
        switch text.lowercased() {
        case "true", "false":
            throw error("invalid value \"\(text)\": booleans are written in lower case (true, false)", at: start)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
            throw error("invalid value \"\(text)\": inf and nan are written in lower case", at: start)
        default:
            throw error("invalid value \"\(text)\" (a string must be in quotes)", at: start)
        }
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

    // MARK: Numbers

    private struct NumberProblem: Error {
        let reason: String
    }

    /// Decimal, hexadecimal, octal or binary integers and decimal floats.
    private func parseNumber(_ token: [UInt8], text: String, at start: Int) throws(TOMLError) -> TOMLValue {
        let value: TOMLValue?
        do throws(NumberProblem) {
            value = try Self.numberValue(token)
        } catch {
            throw self.error("invalid number \"\(text)\": \(error.reason)", at: start)
        }
        guard let value else {
            let isFloat =
                !token.starts(with: "0x".utf8)
                && token.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            throw error(
                isFloat
                    ? "float \"\(text)\" is out of range"
                    : "integer \"\(text)\" is out of range (integers must fit in 64 bits)",
                at: start)
        }
        return value
    }

    /// The number, nil when it is well-formed but does not fit.
    private static func numberValue(_ t: [UInt8]) throws(NumberProblem) -> TOMLValue? {
        var i = 0
        var negative = false
        let signed = t[0] == UInt8(ascii: "+") || t[0] == UInt8(ascii: "-")
        if signed {
            negative = t[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < t.count else { throw NumberProblem(reason: "a sign must be followed by digits") }

        if t[i] == UInt8(ascii: "0") && i + 1 < t.count {
            let radix: UInt64? =
                switch t[i + 1] {
                case UInt8(ascii: "x"): 16
                case UInt8(ascii: "o"): 8
                case UInt8(ascii: "b"): 2
                default: nil
                }
            if let radix {
                if signed { throw NumberProblem(reason: "hexadecimal, octal and binary integers cannot have a sign") }
                return try radixInteger(t, from: i + 2, radix: radix)
            }
        }

        let integerStart = i
        guard try scanDigits(t, &i) else {
            throw NumberProblem(
                reason: i < t.count && t[i] == UInt8(ascii: ".") ? "a float needs digits before the '.'" : "expected digits")
        }
        let integerEnd = i
        if t[integerStart] == UInt8(ascii: "0") && integerEnd - integerStart > 1 {
            throw NumberProblem(reason: "leading zeros are not allowed")
        }
        var isFloat = false
        if i < t.count && t[i] == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            guard try scanDigits(t, &i) else { throw NumberProblem(reason: "a '.' must be followed by digits") }
        }
        if i < t.count && (t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E")) {
            isFloat = true
            i += 1
            if i < t.count && (t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-")) { i += 1 }
            guard try scanDigits(t, &i) else { throw NumberProblem(reason: "an exponent must have digits") }
        }
        guard i == t.count else {
            throw NumberProblem(reason: "unexpected '\(Character(Unicode.Scalar(t[i])))'")
        }

        if isFloat {
            let digits = String(decoding: t.lazy.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
            guard let value = Double(digits), value.isFinite else { return nil }
            return .float(value)
        }
        var magnitude: UInt64 = 0
        for b in t[integerStart..<integerEnd] where b != UInt8(ascii: "_") {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return .integer(Int64(truncatingIfNeeded: 0 &- magnitude))
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return .integer(Int64(magnitude))
    }

    /// Decimal digits from `i` with single underscores between digits; false if there is no digit at `i`.
    private static func scanDigits(_ t: [UInt8], _ i: inout Int) throws(NumberProblem) -> Bool {
        guard i < t.count else { return false }
        if t[i] == UInt8(ascii: "_") { throw NumberProblem(reason: "an underscore must be between two digits") }
        guard Self.isDigit(t[i]) else { return false }
        i += 1
        while i < t.count {
            if Self.isDigit(t[i]) {
                i += 1
            } else if t[i] == UInt8(ascii: "_") {
                guard i + 1 < t.count && Self.isDigit(t[i + 1]) else {
                    throw NumberProblem(reason: "an underscore must be between two digits")
                }
                i += 2
            } else {
                break
            }
        }
        return true
    }

    /// `0x`, `0o` or `0b` digits from `start`; nil if the value does not fit in an Int64.
    private static func radixInteger(_ t: [UInt8], from start: Int, radix: UInt64) throws(NumberProblem) -> TOMLValue? {
        let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
        guard start < t.count else { throw NumberProblem(reason: "missing \(name) digits") }
        var value: UInt64 = 0
        var overflow = false
        var i = start
        var expectDigit = true
        while i < t.count {
            let b = t[i]
            if b == UInt8(ascii: "_") {
                guard !expectDigit && i + 1 < t.count else {
                    throw NumberProblem(reason: "an underscore must be between two digits")
                }
                expectDigit = true
                i += 1
                continue
            }
            guard let digit = hexValue(b), UInt64(digit) < radix else {
                throw NumberProblem(reason: "'\(Character(Unicode.Scalar(b)))' is not \(radix == 8 ? "an" : "a") \(name) digit")
            }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            overflow = overflow || overflow1 || overflow2
            value = sum
            expectDigit = false
            i += 1
        }
        if expectDigit { throw NumberProblem(reason: "an underscore must be between two digits") }
        guard !overflow && value <= UInt64(Int64.max) else { return nil }
        return .integer(Int64(value))
    }

    // MARK: Date-times

    /// Starts like a date (`dddd-`) or a time (`dd:`).
    private static func looksLikeDateTime(_ t: [UInt8]) -> Bool {
        if t.count >= 5 && Self.isDigit(t[0]) && Self.isDigit(t[1]) && Self.isDigit(t[2]) && Self.isDigit(t[3]) && t[4] == UInt8(ascii: "-")
        {
            return true
        }
        return t.count >= 3 && Self.isDigit(t[0]) && Self.isDigit(t[1]) && t[2] == UInt8(ascii: ":")
    }

    /// Why `t` is not an RFC 3339 date-time, local date-time, local date or
    /// local time as TOML 1.0 allows them; nil if it is one.
    private static func dateTimeProblem(_ t: [UInt8]) -> String? {
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= t.count else { return nil }
            var value = 0
            for k in i..<(i + width) {
                guard Self.isDigit(t[k]) else { return nil }
                value = value * 10 + Int(t[k] - UInt8(ascii: "0"))
            }
            i += width
            return value
        }
        func take(_ c: UInt8) -> Bool {
            guard i < t.count && t[i] == c else { return false }
            i += 1
            return true
        }
        func time() -> String? {
            guard let hour = number(2), take(UInt8(ascii: ":")), let minute = number(2) else {
                return "expected a time as HH:MM:SS"
            }
            guard take(UInt8(ascii: ":")), let second = number(2) else {
                return "expected a time as HH:MM:SS (seconds are required)"
            }
            if hour > 23 { return "hour must be between 00 and 23" }
            if minute > 59 { return "minute must be between 00 and 59" }
            if second > 60 { return "second must be between 00 and 60" }
            if take(UInt8(ascii: ".")) {
                guard i < t.count && Self.isDigit(t[i]) else { return "expected digits after '.'" }
                while i < t.count && Self.isDigit(t[i]) { i += 1 }
            }
            return nil
        }

        if t[2] == UInt8(ascii: ":") {
            if let problem = time() { return problem }
            return i == t.count ? nil : "unexpected text after the time"
        }
        guard let year = number(4), take(UInt8(ascii: "-")), let month = number(2), take(UInt8(ascii: "-")),
            let day = number(2)
        else {
            return "expected a date as YYYY-MM-DD"
        }
        if month < 1 || month > 12 { return "month must be between 01 and 12" }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        if day < 1 || day > days { return "day must be between 01 and \(days)" }
        if i == t.count { return nil }
        guard take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(0x20) else {
            return "expected 'T' or a space between the date and the time"
        }
        if let problem = time() { return problem }
        if i == t.count { return nil }
        if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
            return i == t.count ? nil : "unexpected text after the time zone"
        }
        guard take(UInt8(ascii: "+")) || take(UInt8(ascii: "-")) else {
            return "expected 'Z' or an offset like +01:00 after the time"
        }
        guard let offsetHour = number(2), take(UInt8(ascii: ":")), let offsetMinute = number(2) else {
            return "expected an offset like +01:00"
        }
        if offsetHour > 23 || offsetMinute > 59 { return "offset out of range" }
        return i == t.count ? nil : "unexpected text after the time zone"
    }
}
