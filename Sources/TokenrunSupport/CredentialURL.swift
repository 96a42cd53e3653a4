// URLs that may carry a password: a proxy's (http://user:password@proxy:3128)
// and a shared vault's (postgresql://user:password@db/tokenrun, or
// ?password=… as libpq also reads). Shown as `***` wherever they are printed,
// and scrubbed out of any text that might echo them (a library's error message).

public enum CredentialURL {
    /// `scheme://user:password@host:port/…?password=x` → `scheme://***@host:port/…?password=***`.
    /// Everything up to the last `@` counts as user information, so that a password with a
    /// `/`, `?` or `#` that was not percent-encoded is hidden all the same.
    public static func redacted(_ url: String) -> String {
        let start = url.firstRange(of: "://")?.upperBound ?? url.startIndex
        var shown = url
        if let at = url[start...].lastIndex(of: "@") {
            shown = String(url[..<start]) + "***" + String(url[at...])
        }
        return redactingPasswordParameter(shown)
    }

    /// The secret parts of `url` (its user information, the password, decoded too, and the
    /// values of `password=` and `sslpassword=` parameters), longest first, for scrubbing.
    /// `userIsSecret`: a user name alone counts too (a proxy's can be a token; a database
    /// role's is not, and scrubbing a common word would garble messages).
    public static func secrets(of url: String, userIsSecret: Bool = true) -> [String] {
        var secrets: [String] = []
        let start = url.firstRange(of: "://")?.upperBound ?? url.startIndex
        if let at = url[start...].lastIndex(of: "@") {
            let userinfo = url[start..<at]
            if userIsSecret || userinfo.contains(":") { secrets.append(String(userinfo)) }
            if let colon = userinfo.firstIndex(of: ":") {
                let password = String(userinfo[userinfo.index(after: colon)...])
                secrets.append(password)
                if let decoded = password.removingPercentEncodingSimply, decoded != password { secrets.append(decoded) }
            }
        }
        for value in passwordParameters(url) {
            secrets.append(value)
            if let decoded = value.removingPercentEncodingSimply, decoded != value { secrets.append(decoded) }
        }
        return secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    /// `text` with `url` shown redacted and its secrets replaced by `***`.
    public static func scrubbed(_ text: String, of url: String, userIsSecret: Bool = true) -> String {
        var text = text
        let shown = redacted(url)
        if shown != url { text = text.replacing(url, with: shown) }
        for secret in secrets(of: url, userIsSecret: userIsSecret) { text = text.replacing(secret, with: "***") }
        return text
    }

    /// Query parameters that carry a password, as libpq reads them (its key may be percent-encoded).
    static let passwordKeys: Set<String> = ["password", "sslpassword"]

    static func isPasswordKey(_ key: Substring) -> Bool {
        passwordKeys.contains((String(key).removingPercentEncodingSimply ?? String(key)).lowercased())
    }

    /// The values of the URL's password parameters.
    static func passwordParameters(_ url: String) -> [String] {
        guard let query = url.firstIndex(of: "?") else { return [] }
        return url[url.index(after: query)...].split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && isPasswordKey(parts[0]) ? String(parts[1]) : nil
        }
    }

    static func redactingPasswordParameter(_ url: String) -> String {
        guard let query = url.firstIndex(of: "?") else { return url }
        let pairs = url[url.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && isPasswordKey(parts[0]) ? parts[0] + "=***" : String(pair)
        }
        return String(url[...query]) + pairs.joined(separator: "&")
    }
}

extension String {
    /// `%XX` sequences decoded, nil when one is malformed or the result is not UTF-8.
    package var removingPercentEncodingSimply: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
