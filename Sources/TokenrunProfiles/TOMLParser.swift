// A strict parser for the part of TOML 1.0 that profiles and config.toml use
// (strings, booleans, decimal integers, arrays, tables, inline tables and
// arrays of tables), remembering the line of every key, for files written by
// hand. A date-time, a float or a 0x/0o/0b integer is refused with a message
// that says so: no key takes one. It works on UTF-8 bytes, never traps on malformed
// input, runs in time linear in the size of the input, and uses no recursion
// that follows the nesting of the document (which is capped at
// `TOMLParser.maxDepth` levels regardless), so deep input cannot exhaust the stack.
//
// Layout: this file holds the entry points, the up-front text checks, the
// document loop, keys, table headers and the table tree; string parsing is in
// TOMLParser+Strings.swift and all other values in TOMLParser+Values.swift.
import TokenrunSupport

/// Parses the TOML of profiles into `TOMLTable`s.
public enum TOMLParser {
    /// Deepest nesting accepted, counting every table level (headers, dotted
    /// keys, inline tables) and every array level from the root.
    static let maxDepth = 128

    /// Parses a whole document. Throws TOMLError for any input that is not valid TOML 1.0,
    /// or holds a value no profile takes; `document` names the file in that message.
    public static func parse(_ text: String, document: String = "a profile") throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8), document: document)
    }

    /// Parses a whole document given as bytes. Rejects invalid UTF-8 and NUL
    /// bytes before looking at the syntax.
    public static func parse(bytes: [UInt8], document: String = "a profile") throws(TOMLError) -> TOMLTable {
        var parser = try TOMLDocumentParser(bytes: bytes, document: document)
        defer { parser.root.dismantle() }
        return try parser.parseDocument()
    }
}

// MARK: - The table tree under construction

/// A table while the document is being read. Classes, because headers and
/// dotted keys reach into tables created earlier and extend them in place.
final class TOMLTableBuilder {
    /// How the table came to exist; decides what may still be added to it.
    enum Kind {
        /// The document itself.
        case root
        /// Created on the way to a deeper header (`a` for `[a.b]`); `[a]` may still define it.
        case implicit
        /// Defined by its own `[header]` or `[[header]]`: closed to headers and dotted keys.
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`): open to more dotted
        /// keys, closed to a `[a]` header, open to `[a.sub]` headers.
        case dotted
        /// The outermost table of an inline table while it is being read.
        case inline
    }

    enum Content {
        /// A finished value: scalars, static arrays and inline tables, none of which can be extended.
        case value(TOMLValue)
        case table(TOMLTableBuilder)
        case tableArray(TOMLTableArrayBuilder)
    }

    struct Slot {
        var content: Content
        var line: Int
    }

    var kind: Kind
    var line: Int
    /// 0 for the root; children are one deeper.
    let depth: Int
    private(set) var order: [String] = []
    private(set) var slots: [String: Slot] = [:]

    init(kind: Kind, line: Int, depth: Int) {
        self.kind = kind
        self.line = line
        self.depth = depth
    }

    func slot(_ name: String) -> Slot? { slots[name] }

    func add(_ name: String, _ content: Content, line: Int) {
        order.append(name)
        slots[name] = Slot(content: content, line: line)
    }

    func setLine(of name: String, to line: Int) {
        slots[name]?.line = line
    }

    /// Tables directly inside this one (including array-of-tables elements).
    private var childTables: [TOMLTableBuilder] {
        var children: [TOMLTableBuilder] = []
        for slot in slots.values {
            switch slot.content {
            case .value: break
            case .table(let table): children.append(table)
            case .tableArray(let array): children.append(contentsOf: array.elements)
            }
        }
        return children
    }

    /// This table and every table below it, each before its children.
    private func allTables() -> [TOMLTableBuilder] {
        var tables: [TOMLTableBuilder] = []
        var pending = [self]
        while let table = pending.popLast() {
            tables.append(table)
            pending.append(contentsOf: table.childTables)
        }
        return tables
    }

    /// The finished value. Built bottom-up without recursion, so that stack
    /// use does not depend on how deeply tables are nested.
    func build() -> TOMLTable {
        // Each table's finished value is parked on its builder (not in a dictionary keyed
        // by ObjectIdentifier: instantiating that type alone scanned every protocol
        // conformance in the binary, a noticeable part of a warm launch).
        for table in allTables().reversed() {
            var entries: [TOMLTable.Entry] = []
            entries.reserveCapacity(table.order.count)
            for name in table.order {
                guard let slot = table.slots[name] else { continue }
                let value: TOMLValue
                switch slot.content {
                case .value(let done):
                    value = done
                case .table(let child):
                    value = .table(child.takeFinished())
                case .tableArray(let array):
                    value = .array(array.elements.map { .table($0.takeFinished()) })
                }
                entries.append(TOMLTable.Entry(key: name, value: value, line: slot.line))
            }
            table.finished = TOMLTable(line: table.line, entries: entries)
        }
        return takeFinished()
    }

    /// The value `build` made for this table, handed over once.
    private var finished: TOMLTable?

    private func takeFinished() -> TOMLTable {
        defer { finished = nil }
        return finished ?? TOMLTable(line: line, entries: [])
    }

    /// Cuts every link below this table, so that releasing the tree does not
    /// recurse once per level of nesting.
    func dismantle() {
        for table in allTables() {
            table.slots.removeAll()
            table.order.removeAll()
        }
    }
}

/// The elements of an `[[array.of.tables]]`, appended to by each header.
final class TOMLTableArrayBuilder {
    var elements: [TOMLTableBuilder]

    init(first: TOMLTableBuilder) {
        elements = [first]
    }
}

// MARK: - The parser

/// One key segment as written, with the byte offset it starts at.
struct TOMLKeyPart {
    var name: String
    var offset: Int
}

struct TOMLDocumentParser {
    let bytes: [UInt8]
    /// Byte offset of the next byte to read.
    var pos: Int
    /// Byte offsets at which each line starts; `lineStarts[0] == 0`.
    private(set) var lineStarts: [Int]
    /// Length of a leading UTF-8 byte-order mark, skipped (0 or 3).
    private(set) var bomLength: Int
    let root: TOMLTableBuilder
    /// The table that key/value lines go into: the last header's table.
    var current: TOMLTableBuilder
    /// What is being read, for "… is not allowed in a profile": "a profile", "config.toml".
    let document: String

    init(bytes: [UInt8], document: String) throws(TOMLError) {
        self.bytes = bytes
        self.document = document
        pos = 0
        lineStarts = [0]
        bomLength = 0
        root = TOMLTableBuilder(kind: .root, line: 1, depth: 0)
        current = root
        try checkText()
    }

    // MARK: Up-front checks

    /// Validates UTF-8, rejects NUL and bare CR, and records where lines start.
    /// Afterwards a 0 byte can only mean "end of input" and every CR is followed by LF.
    private mutating func checkText() throws(TOMLError) {
        let count = bytes.count
        var i = 0
        if count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            bomLength = 3
            i = 3
            pos = 3
        }
        lineStarts.reserveCapacity(count / 32 + 1)
        while i < count {
            let b = bytes[i]
            if b < 0x80 {
                if b == 0x0A {
                    lineStarts.append(i + 1)
                } else if b == 0 {
                    throw error("file contains a NUL byte: not a text file", at: i)
                } else if b == 0x0D && (i + 1 >= count || bytes[i + 1] != 0x0A) {
                    throw error("bare carriage return (a CR must be followed by LF)", at: i)
                }
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                high = 0x9F
            case 0xF0:
                length = 4
                low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                high = 0x8F
            default: throw invalidUTF8(at: i)
            }
            guard i + length <= count else { throw invalidUTF8(at: i) }
            for k in 1..<length {
                let c = bytes[i + k]
                let ok = k == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF)
                // Name the byte that starts the broken sequence: for a Latin-1 "é" before a
                // quote that is the é (0xE9), not the innocent quote after it.
                if !ok { throw invalidUTF8(at: i) }
            }
            i += length
        }
    }

    private func invalidUTF8(at offset: Int) -> TOMLError {
        error("file is not UTF-8 text (invalid byte \(Self.hexByte(bytes[offset])) at byte offset \(offset))", at: offset)
    }

    // MARK: Positions and errors

    /// 1-based line of a byte offset.
    func line(of offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    /// 1-based column of a byte offset, counted in Unicode scalars.
    func column(of offset: Int, line: Int) -> Int {
        let start = line == 1 ? bomLength : lineStarts[line - 1]
        let end = min(offset, bytes.count)
        var column = 1
        var i = start
        while i < end {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return column
    }

    func error(_ message: String, at offset: Int) -> TOMLError {
        let line = line(of: offset)
        return TOMLError(line: line, column: column(of: offset, line: line), message: message)
    }

    /// Valid TOML, but a kind of value no key takes: says what and how to write it instead.
    func notAllowed(_ what: String, fix: String, at offset: Int) -> TOMLError {
        let line = line(of: offset)
        return TOMLError(
            line: line, column: column(of: offset, line: line), message: "\(what) is not allowed in \(document); \(fix)",
            isValidTOML: true)
    }

    func tooDeep(at offset: Int) -> TOMLError {
        error("nesting is too deep (the limit is \(TOMLParser.maxDepth) levels of tables and arrays)", at: offset)
    }

    /// The byte at `offset`, or 0 past the end (0 cannot occur in checked text).
    @inline(__always)
    func byte(_ offset: Int) -> UInt8 {
        offset < bytes.count ? bytes[offset] : 0
    }

    /// What is at `offset`, for "expected X, found Y" messages.
    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of file" }
        let b = bytes[offset]
        switch b {
        case 0x0A, 0x0D: return "end of line"
        case 0x09: return "a tab"
        case 0x20: return "a space"
        case 0x27: return "\"'\""
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(b)))'"
        case 0x00..<0x20, 0x7F: return "control character \(Self.scalarName(UInt32(b)))"
        default:
            var iterator = bytes[offset...].makeIterator()
            var decoder = UTF8()
            if case .scalarValue(let scalar) = decoder.decode(&iterator) {
                if Quoting.isInvisible(scalar) { return Self.scalarName(scalar.value) }
                return "'\(Character(scalar))' (\(Self.scalarName(scalar.value)))"
            }
            return "byte \(Self.hexByte(b))"
        }
    }

    /// Scalars that would be invisible or garble a terminal if printed in a message.
    /// A key path the way it would be written, quoted for messages: `"a.b"`.
    static func quote(_ parts: some Collection<TOMLKeyPart>) -> String {
        parts.allSatisfy { isBareKey($0.name) } ? shortened("\"" + dotted(parts) + "\"") : shortened(dotted(parts))
    }

    /// A key path the way it would be written in a header, without brackets: `a."b c"`.
    static func headerName(_ parts: [TOMLKeyPart]) -> String { shortened(dotted(parts)) }

    /// The parts joined by dots, each quoted unless bare. Concatenated by hand: the generic
    /// `joined(separator:)` instantiated its metadata on every launch (a conformance scan).
    private static func dotted(_ parts: some Collection<TOMLKeyPart>) -> String {
        var text = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { text += "." }
            text += isBareKey(part.name) ? part.name : Quoting.toml(part.name)
        }
        return text
    }

    /// Keeps messages readable when a key is absurdly long.
    private static func shortened(_ text: String) -> String {
        text.unicodeScalars.count <= 100 ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(100))) + "…"
    }

    static func isBareKey(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Self.isBareKeyByte)
    }

    /// "a string", "an integer", ... for messages.
    static func withArticle(_ value: TOMLValue) -> String {
        switch value {
        case .integer, .array: "an \(value.typeName)"
        case .table: "an inline table"
        default: "a \(value.typeName)"
        }
    }

    // MARK: Whitespace, comments, line ends

    mutating func skipWhitespace() {
        while pos < bytes.count && (bytes[pos] == 0x20 || bytes[pos] == 0x09) { pos += 1 }
    }

    /// At `#`: consumes the comment up to, not including, the line break.
    mutating func skipComment() throws(TOMLError) {
        pos += 1
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x0A || b == 0x0D { return }
            if (b < 0x20 && b != 0x09) || b == 0x7F {
                throw error("control character \(Self.scalarName(UInt32(b))) is not allowed in a comment", at: pos)
            }
            pos += 1
        }
    }

    /// After a key/value pair or a header: whitespace, an optional comment,
    /// then a line break or the end of the input.
    mutating func expectEndOfLine(after what: String) throws(TOMLError) {
        skipWhitespace()
        if byte(pos) == UInt8(ascii: "#") { try skipComment() }
        switch byte(pos) {
        case 0: return
        case 0x0A: pos += 1
        case 0x0D: pos += 2
        default: throw error("expected end of line after \(what), found \(describe(pos))", at: pos)
        }
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while true {
            skipWhitespace()
            let b = byte(pos)
            switch b {
            case 0:
                return root.build()
            case 0x0A:
                pos += 1
            case 0x0D:
                pos += 2
            case UInt8(ascii: "#"):
                try skipComment()
            case UInt8(ascii: "["):
                try parseHeader()
                try expectEndOfLine(after: "table header")
            case UInt8(ascii: "="):
                throw error("missing key before '='", at: pos)
            default:
                guard Self.isBareKeyByte(b) || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") else {
                    throw error("expected a key or a [table] header, found \(describe(pos))", at: pos)
                }
                let (key, value) = try parseKeyValue(depth: current.depth)
                try insert(value, at: key, into: current)
                try expectEndOfLine(after: "value")
            }
        }
    }

    // MARK: Keys

    /// A dotted key: simple keys separated by dots, with optional whitespace around the dots.
    mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        var afterDot = false
        while true {
            if parts.count >= TOMLParser.maxDepth { throw tooDeep(at: pos) }
            parts.append(try parseSimpleKey(afterDot: afterDot))
            skipWhitespace()
            guard byte(pos) == UInt8(ascii: ".") else { return parts }
            pos += 1
            skipWhitespace()
            afterDot = true
        }
    }

    private mutating func parseSimpleKey(afterDot: Bool) throws(TOMLError) -> TOMLKeyPart {
        let start = pos
        let b = byte(pos)
        if Self.isBareKeyByte(b) {
            while Self.isBareKeyByte(byte(pos)) { pos += 1 }
            return TOMLKeyPart(name: String(decoding: bytes[start..<pos], as: UTF8.self), offset: start)
        }
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
            if byte(pos + 1) == b && byte(pos + 2) == b {
                throw error("a multi-line string cannot be used as a key", at: start)
            }
            let name = b == UInt8(ascii: "\"") ? try parseBasicString() : try parseLiteralString()
            return TOMLKeyPart(name: name, offset: start)
        }
        if afterDot {
            throw error("expected a key after '.', found \(describe(pos))", at: pos)
        }
        if b == UInt8(ascii: "=") {
            throw error("missing key before '='", at: pos)
        }
        throw error("expected a key, found \(describe(pos))", at: pos)
    }

    /// `key = value` (the caller checks what follows). `depth` is the depth of
    /// the table the pair goes into.
    mutating func parseKeyValue(depth: Int) throws(TOMLError) -> ([TOMLKeyPart], TOMLValue) {
        let key = try parseKeyAndEquals(depth: depth)
        let value = try parseValue(depth: depth + key.count)
        return (key, value)
    }

    /// `key =` and the whitespace after it, making sure a value follows on the line.
    mutating func parseKeyAndEquals(depth: Int) throws(TOMLError) -> [TOMLKeyPart] {
        let start = pos
        let key = try parseKey()
        skipWhitespace()
        guard byte(pos) == UInt8(ascii: "=") else {
            throw error("expected '=' after key \(Self.quote(key)), found \(describe(pos))", at: pos)
        }
        pos += 1
        skipWhitespace()
        switch byte(pos) {
        case 0, 0x0A, 0x0D, UInt8(ascii: "#"):
            throw error("missing value for key \(Self.quote(key)) after '='", at: pos)
        default:
            break
        }
        if depth + key.count > TOMLParser.maxDepth { throw tooDeep(at: start) }
        return key
    }

    // MARK: Tables

    /// Adds `key = value` to `table`, creating the tables named by a dotted key.
    mutating func insert(_ value: TOMLValue, at key: [TOMLKeyPart], into table: TOMLTableBuilder) throws(TOMLError) {
        let line = line(of: key[0].offset)
        var target = table
        for i in 0..<(key.count - 1) {
            let part = key[i]
            guard let slot = target.slot(part.name) else {
                let created = TOMLTableBuilder(kind: .dotted, line: line, depth: target.depth + 1)
                target.add(part.name, .table(created), line: line)
                target = created
                continue
            }
            let name = Self.quote(key[...i])
            switch slot.content {
            case .table(let existing):
                switch existing.kind {
                case .dotted:
                    break
                case .implicit:
                    // Created on the way to a deeper header: dotted keys define it now.
                    existing.kind = .dotted
                    existing.line = line
                    target.setLine(of: part.name, to: line)
                case .header, .root, .inline:
                    throw error(
                        "cannot add to table \(name) with dotted keys: it is defined by its [header] on line \(existing.line)",
                        at: part.offset)
                }
                target = existing
            case .tableArray:
                throw error(
                    "cannot add to \(name) with dotted keys: it is an array of tables (defined on line \(slot.line))",
                    at: part.offset)
            case .value(let existing):
                if case .table = existing {
                    throw error(
                        "cannot extend inline table \(name) (defined on line \(slot.line)): inline tables are complete once closed",
                        at: part.offset)
                }
                throw error(
                    "cannot use \(name) as a table: it is already \(Self.withArticle(existing)) (defined on line \(slot.line))",
                    at: part.offset)
            }
        }
        let last = key[key.count - 1]
        if let slot = target.slot(last.name) {
            throw error("duplicate key \(Self.quote(key)) (first defined on line \(slot.line))", at: last.offset)
        }
        target.add(last.name, .value(value), line: line)
    }

    /// At `[`: a `[table]` or `[[array.of.tables]]` header; makes its table current.
    mutating func parseHeader() throws(TOMLError) {
        let start = pos
        let isArray = byte(pos + 1) == UInt8(ascii: "[")
        pos += isArray ? 2 : 1
        skipWhitespace()
        let b = byte(pos)
        guard Self.isBareKeyByte(b) || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") else {
            throw error("expected a table name after '\(isArray ? "[[" : "[")', found \(describe(pos))", at: pos)
        }
        let key = try parseKey()
        skipWhitespace()
        let header = isArray ? "[[\(Self.headerName(key))]]" : "[\(Self.headerName(key))]"
        if isArray {
            guard byte(pos) == UInt8(ascii: "]") && byte(pos + 1) == UInt8(ascii: "]") else {
                throw error("unclosed header \(header): expected ']]', found \(describe(pos))", at: pos)
            }
            pos += 2
        } else {
            guard byte(pos) == UInt8(ascii: "]") else {
                throw error("unclosed header \(header): expected ']', found \(describe(pos))", at: pos)
            }
            pos += 1
        }
        let line = line(of: start)

        var target = root
        for i in 0..<(key.count - 1) {
            let part = key[i]
            guard let slot = target.slot(part.name) else {
                let created = TOMLTableBuilder(kind: .implicit, line: line, depth: target.depth + 1)
                target.add(part.name, .table(created), line: line)
                target = created
                continue
            }
            let name = Self.quote(key[...i])
            switch slot.content {
            case .table(let existing):
                target = existing
            case .tableArray(let array):
                target = array.elements[array.elements.count - 1]
            case .value(let existing):
                if case .table = existing {
                    throw error(
                        "cannot extend inline table \(name) (defined on line \(slot.line)): inline tables are complete once closed",
                        at: part.offset)
                }
                throw error(
                    "cannot use \(name) as a table: it is already \(Self.withArticle(existing)) (defined on line \(slot.line))",
                    at: part.offset)
            }
        }

        let last = key[key.count - 1]
        let name = Self.quote(key)
        if target.depth + (isArray ? 2 : 1) > TOMLParser.maxDepth { throw tooDeep(at: last.offset) }
        if isArray {
            guard let slot = target.slot(last.name) else {
                let element = TOMLTableBuilder(kind: .header, line: line, depth: target.depth + 2)
                target.add(last.name, .tableArray(TOMLTableArrayBuilder(first: element)), line: line)
                current = element
                return
            }
            switch slot.content {
            case .tableArray(let array):
                let element = TOMLTableBuilder(kind: .header, line: line, depth: target.depth + 2)
                array.elements.append(element)
                current = element
            case .value(.array):
                throw error(
                    "cannot append to \(name) with \(header): it is a static array (defined on line \(slot.line))",
                    at: last.offset)
            case .value(let existing):
                throw error(
                    "cannot define array of tables \(header): \(name) is already \(Self.withArticle(existing)) (defined on line \(slot.line))",
                    at: last.offset)
            case .table:
                throw error(
                    "cannot define array of tables \(header): \(name) is already a table (defined on line \(slot.line))",
                    at: last.offset)
            }
        } else {
            guard let slot = target.slot(last.name) else {
                let table = TOMLTableBuilder(kind: .header, line: line, depth: target.depth + 1)
                target.add(last.name, .table(table), line: line)
                current = table
                return
            }
            switch slot.content {
            case .table(let existing):
                switch existing.kind {
                case .implicit:
                    existing.kind = .header
                    existing.line = line
                    target.setLine(of: last.name, to: line)
                    current = existing
                case .dotted:
                    throw error(
                        "table \(header) is already defined by dotted keys (on line \(existing.line))",
                        at: start)
                case .header, .root, .inline:
                    throw error("table \(header) is already defined (on line \(existing.line))", at: start)
                }
            case .tableArray:
                throw error(
                    "cannot define table \(header): \(name) is already an array of tables (defined on line \(slot.line))",
                    at: start)
            case .value(let existing):
                if case .table = existing {
                    throw error(
                        "cannot extend inline table \(name) (defined on line \(slot.line)): inline tables are complete once closed",
                        at: start)
                }
                throw error(
                    "cannot define table \(header): \(name) is already \(Self.withArticle(existing)) (defined on line \(slot.line))",
                    at: start)
            }
        }
    }
}

// MARK: - Byte classes and formatting

extension TOMLDocumentParser {
    @inline(__always)
    static func isBareKeyByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool {
        b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
    }

    static func hex(_ value: UInt32, digits: Int) -> String { Quoting.hex(value, digits: digits) }

    static func hexByte(_ b: UInt8) -> String {
        "0x" + Self.hex(UInt32(b), digits: 2)
    }

    /// "U+0007".
    static func scalarName(_ value: UInt32) -> String {
        "U+" + Self.hex(value, digits: 4)
    }
}
