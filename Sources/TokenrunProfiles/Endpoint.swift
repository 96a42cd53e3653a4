import TokenrunSupport

/// The checks an OAuth endpoint URL must pass: absolute http(s), no embedded
/// credentials, and https unless the host is a loopback address.
public enum Endpoint {
    /// Why a URL was refused, or nil when it is acceptable.
    public static func problem(with url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else {
            return "\(Quoting.message(url)) is not an absolute URL (expected https://host/path)"
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "https" || scheme == "http" else {
            return "\(Quoting.message(url)) uses the scheme \(Quoting.message(String(scheme))), but endpoints must be https"
        }
        if url.contains(where: { $0 == " " || $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }) {
            return "\(Quoting.message(url)) contains spaces or control characters"
        }
        let afterScheme = url[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") { return "endpoint URLs must not contain a user name or password" }
        guard let host = host(of: String(authority)), !host.isEmpty else { return "\(Quoting.message(url)) has no host" }
        if scheme == "http" && !isLoopback(host) {
            return
                "\(Quoting.message(url)) is plain http; endpoints must be https except on loopback addresses (127.0.0.1, ::1, localhost)"
        }
        return nil
    }

    /// The host of a URL ("https://a.example:8443/x" → "a.example").
    public static func host(ofURL url: String) -> String? {
        guard url.firstRange(of: "://") != nil else { return nil }
        return host(of: authority(ofURL: url))
    }

    /// The host and port of a URL, without user information ("https://u@a.example:8443/x" →
    /// "a.example:8443"), as messages about its server name it; the URL itself when it has no scheme.
    public static func authority(ofURL url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority)
    }

    /// The host part of an authority ("[::1]:8080" → "::1").
    static func host(of authority: String) -> String? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        return String(authority.prefix { $0 != ":" })
    }

    /// 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let octets = lower.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            guard let value = Int(octet), !octet.isEmpty, octet.count <= 3 else { return false }
            return (0...255).contains(value)
        }
    }
}
