// git's credential helper protocol (gitcredentials(7), git-credential(1)):
// `key=value` lines on stdin up to a blank line or the end; the helper answers
// with the same shape. A value can never hold a newline or NUL, so a token that
// does is refused rather than sent half.

/// Reading and writing git credential descriptions.
public enum GitCredentialProtocol {
    /// The attributes git sent (the first value of each key; `key[]` arrays are ignored).
    public static func parse(_ bytes: [UInt8]) -> [String: String] {
        var attributes: [String: String] = [:]
        let text = String(decoding: bytes, as: UTF8.self)
        // "\r\n" is one Character in Swift: split on any line break.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.isEmpty { break }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            if attributes[key] == nil { attributes[key] = String(line[line.index(after: equals)...]) }
        }
        return attributes
    }

    /// The answer to `get`; nil when a value cannot be carried by the protocol.
    public static func answer(username: String, password: String, expiresAt: Int64?) -> String? {
        func safe(_ value: String) -> Bool { !value.isEmpty && !value.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) }
        guard safe(username), safe(password) else { return nil }
        var text = "username=\(username)\npassword=\(password)\n"
        // Understood by git 2.41 and later (it then asks again once the token expires); ignored before.
        if let expiresAt { text += "password_expiry_utc=\(expiresAt)\n" }
        return text
    }
}
