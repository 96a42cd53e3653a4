// Every way tokenrun quotes text for something else to read: shells (sh,
// fish), dotenv files, JSON, TOML and its own messages. Quoting works on
// Unicode scalars, not Characters: a quote followed by a combining mark is one
// Character ("'\u{301}") but still a quote to a shell.

/// Quoting of text for shells, file formats and messages.
public enum Quoting {
    /// POSIX shell: single quotes, with ' written as '\''.
    public static func sh(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            if scalar == "'" { out += "'\\''" } else { out.unicodeScalars.append(scalar) }
        }
        return out + "'"
    }

    /// fish: single quotes, where only \ and ' are escaped.
    public static func fish(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            if scalar == "\\" || scalar == "'" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out + "'"
    }

    /// dotenv: double quotes with \\, \", \$, \` , \n and \r escaped (python-dotenv, docker compose read these).
    public static func dotenv(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "$": out += "\\$"
            case "`": out += "\\`"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A JSON string literal (RFC 8259 escaping; "/" left as is).
    public static func json(_ text: String) -> String {
        // Most values need no escaping: copy them whole rather than scalar by scalar.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + hex(scalar.value, digits: 4).lowercased()
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A TOML basic string: `\"`, `\\`, `\n`, `\t`, `\r`, and `\uXXXX` for control and invisible characters,
    /// so that what a terminal shows is what the string holds.
    public static func toml(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars { appendTOML(scalar, to: &out) }
        return out + "\""
    }

    /// Untrusted text (from files and servers) for a message: in double quotes, escaped as a TOML basic
    /// string, cut once the escaped text passes `limit` characters, with "…" after the closing quote.
    /// A control character could otherwise recolour, hide or forge terminal output (a line break could
    /// fake a `tokenrun: hint:` line), and a megabyte of text would bury the message.
    public static func message(_ text: String, limit: Int = 100) -> String {
        var inner = ""
        var length = 0
        for scalar in text.unicodeScalars {
            var escaped = ""
            appendTOML(scalar, to: &escaped)
            length += escaped.count
            if length > limit { return "\"" + inner + "\"…" }
            inner += escaped
        }
        return "\"" + inner + "\""
    }

    /// `text` with every control character replaced by a space, cut after `limit` characters with "…".
    public static func cleaned(_ text: String, limit: Int = 200) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "…" : cleaned
    }

    /// Whether a terminal would show `scalar` as nothing, as blank, or as part of its neighbour.
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator, .nonspacingMark, .enclosingMark, .spacingMark:
            true
        default:
            false
        }
    }

    /// `value` in upper-case hexadecimal, zero-padded to `digits`.
    public static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private static func appendTOML(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value > 0x7F && isInvisible(scalar)) {
                out += scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, digits: 8) : "\\u" + hex(scalar.value, digits: 4)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
