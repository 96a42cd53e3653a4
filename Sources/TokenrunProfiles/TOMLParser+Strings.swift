// The four TOML string forms. Text is copied into a byte buffer in runs
// between escapes, so building a string is linear in its length. The input
// was checked up front: it is valid UTF-8, has no NUL (so byte 0 means "end
// of input") and every CR is followed by LF.

extension TOMLDocumentParser {
    /// At `"`: a single-line basic string, with escapes.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let open = pos
        pos += 1
        var buffer: [UInt8] = []
        var runStart = pos
        while true {
            let b = byte(pos)
            switch b {
            case UInt8(ascii: "\""):
                buffer.append(contentsOf: bytes[runStart..<pos])
                pos += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                buffer.append(contentsOf: bytes[runStart..<pos])
                try parseEscape(into: &buffer, openedAt: open)
                runStart = pos
            case 0x0A, 0x0D:
                throw error("newline in a single-line string: missing closing '\"' (use \"\"\" for a multi-line string)", at: pos)
            case 0:
                throw unterminated("string", closing: "\"", openedAt: open)
            case 0x01..<0x20 where b != 0x09, 0x7F:
                throw controlCharacter(at: pos, escapable: true)
            default:
                pos += 1
            }
        }
    }

    /// At `'`: a single-line literal string, taken as is.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let open = pos
        pos += 1
        let start = pos
        while true {
            let b = byte(pos)
            switch b {
            case UInt8(ascii: "'"):
                let text = String(decoding: bytes[start..<pos], as: UTF8.self)
                pos += 1
                return text
            case 0x0A, 0x0D:
                throw error("newline in a single-line string: missing closing \"'\" (use ''' for a multi-line string)", at: pos)
            case 0:
                throw unterminated("literal string", closing: "'", openedAt: open)
            case 0x01..<0x20 where b != 0x09, 0x7F:
                throw controlCharacter(at: pos, escapable: false)
            default:
                pos += 1
            }
        }
    }

    /// At `"""`: a multi-line basic string. A newline right after the opening
    /// quotes is dropped, CRLF becomes LF, and a backslash ending a line
    /// removes itself and all whitespace and newlines after it.
    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let open = pos
        pos += 3
        skipNewlineAfterOpeningQuotes()
        var buffer: [UInt8] = []
        var runStart = pos
        while true {
            let b = byte(pos)
            switch b {
            case UInt8(ascii: "\""):
                if let extra = closingQuotes(UInt8(ascii: "\"")) {
                    buffer.append(contentsOf: bytes[runStart..<(pos + extra)])
                    pos += extra + 3
                    return String(decoding: buffer, as: UTF8.self)
                }
            case UInt8(ascii: "\\"):
                buffer.append(contentsOf: bytes[runStart..<pos])
                switch byte(pos + 1) {
                case 0x20, 0x09, 0x0A, 0x0D:
                    try skipLineEndingBackslash()
                default:
                    try parseEscape(into: &buffer, openedAt: open)
                }
                runStart = pos
            case 0x0A:
                pos += 1
            case 0x0D:
                buffer.append(contentsOf: bytes[runStart..<pos])
                buffer.append(0x0A)
                pos += 2
                runStart = pos
            case 0:
                throw unterminated("multi-line string", closing: "\"\"\"", openedAt: open)
            case 0x01..<0x20 where b != 0x09, 0x7F:
                throw controlCharacter(at: pos, escapable: true)
            default:
                pos += 1
            }
        }
    }

    /// At `'''`: a multi-line literal string, taken as is except that a newline
    /// right after the opening quotes is dropped and CRLF becomes LF.
    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let open = pos
        pos += 3
        skipNewlineAfterOpeningQuotes()
        var buffer: [UInt8] = []
        var runStart = pos
        while true {
            let b = byte(pos)
            switch b {
            case UInt8(ascii: "'"):
                if let extra = closingQuotes(UInt8(ascii: "'")) {
                    buffer.append(contentsOf: bytes[runStart..<(pos + extra)])
                    pos += extra + 3
                    return String(decoding: buffer, as: UTF8.self)
                }
            case 0x0A:
                pos += 1
            case 0x0D:
                buffer.append(contentsOf: bytes[runStart..<pos])
                buffer.append(0x0A)
                pos += 2
                runStart = pos
            case 0:
                throw unterminated("multi-line literal string", closing: "'''", openedAt: open)
            case 0x01..<0x20 where b != 0x09, 0x7F:
                throw controlCharacter(at: pos, escapable: false)
            default:
                pos += 1
            }
        }
    }

    // MARK: Helpers

    private mutating func skipNewlineAfterOpeningQuotes() {
        if byte(pos) == 0x0A {
            pos += 1
        } else if byte(pos) == 0x0D {
            pos += 2
        }
    }

    /// At a quote inside a multi-line string. For a run of fewer than three
    /// quotes, steps over them (they are content) and returns nil. Otherwise
    /// the string closes: returns how many quotes of the run (0...2) are
    /// content before the closing three; any quotes after those are left for
    /// the caller to reject.
    private mutating func closingQuotes(_ quote: UInt8) -> Int? {
        var run = 1
        while run < 6 && byte(pos + run) == quote { run += 1 }
        if run < 3 {
            pos += run
            return nil
        }
        return min(run - 3, 2)
    }

    /// At a backslash followed by whitespace in a multi-line basic string: the
    /// rest of the line must be blank; skips it and all following whitespace and newlines.
    private mutating func skipLineEndingBackslash() throws(TOMLError) {
        let backslash = pos
        var p = pos + 1
        while byte(p) == 0x20 || byte(p) == 0x09 { p += 1 }
        guard byte(p) == 0x0A || byte(p) == 0x0D else {
            throw error("invalid escape: a backslash followed by whitespace must be the last thing on its line", at: backslash)
        }
        while true {
            switch byte(p) {
            case 0x20, 0x09, 0x0A: p += 1
            case 0x0D: p += 2
            default:
                pos = p
                return
            }
        }
    }

    /// At a backslash in a basic string: appends the escaped character.
    private mutating func parseEscape(into buffer: inout [UInt8], openedAt open: Int) throws(TOMLError) {
        let start = pos
        let e = byte(pos + 1)
        let simple: UInt8?
        switch e {
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        default: simple = nil
        }
        if let simple {
            buffer.append(simple)
            pos += 2
            return
        }
        switch e {
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            var value: UInt32 = 0
            for k in 0..<count {
                guard let digit = Self.hexValue(byte(pos + 2 + k)) else {
                    throw error(
                        "invalid escape \\\(e == UInt8(ascii: "u") ? "u" : "U"): expected \(count) hexadecimal digits",
                        at: start)
                }
                value = value << 4 | digit
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw error(
                    "invalid escape \\\(e == UInt8(ascii: "u") ? "u" : "U")\(Self.hex(value, digits: count)): \(Self.scalarName(value)) is not a Unicode scalar value",
                    at: start)
            }
            UTF8.encode(scalar) { buffer.append($0) }
            pos += 2 + count
        case 0:
            throw error("unterminated string (opened on line \(line(of: open)))", at: open)
        case 0x0A, 0x0D:
            throw error("invalid escape: a backslash at the end of the line is only allowed in a \"\"\" string", at: start)
        case 0x21...0x7E:
            throw error(
                "invalid escape \\\(Character(Unicode.Scalar(e))) (valid escapes: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)",
                at: start)
        default:
            throw error("invalid escape: backslash followed by \(describe(pos + 1))", at: start)
        }
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func unterminated(_ what: String, closing: String, openedAt open: Int) -> TOMLError {
        error("unterminated \(what) (opened on line \(line(of: open))): missing closing \(closing)", at: open)
    }

    private func controlCharacter(at offset: Int, escapable: Bool) -> TOMLError {
        let name = Self.scalarName(UInt32(byte(offset)))
        let hint = escapable ? " (write it as an escape, e.g. \\u\(name.dropFirst(2)))" : ""
        return error("control character \(name) is not allowed in a string\(hint)", at: offset)
    }
}
