// Text from files and servers, quoted in messages. A profile, a vault file or
// a token endpoint may hold anything, and what tokenrun prints reaches a
// terminal: a control character there could recolour, hide or forge output
// (a line break could fake a `tokenrun: hint:` line), and a megabyte of it
// would bury the message. So such text is escaped and cut to a readable length.

/// Quoting of untrusted text for messages.
public enum MessageText {
    /// `text` in double quotes, escaped as a TOML basic string (`\"`, `\\`,
    /// `\n`, `\u001B` …), cut once the escaped text passes `limit` characters,
    /// with "…" after the closing quote.
    public static func quoted(_ text: String, limit: Int = 100) -> String {
        var inner = ""
        var length = 0
        for scalar in text.unicodeScalars {
            let escaped = TOMLDocumentParser.basicQuoted(String(scalar)).dropFirst().dropLast()
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
}
