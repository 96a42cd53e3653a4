// The browser of the login tests: it reads the authorization URL that
// `tokenrun login --no-browser` prints, follows it at the test provider (which
// consents at once, or refuses with test_deny=1) and delivers the redirect to
// tokenrun's loopback listener, as a real browser would.
import FoundationEssentials

public enum ScriptedBrowser {
    /// The authorization URL printed by a running `tokenrun login`, once it appears.
    public static func authorizationURL(from process: RunningProcess) -> String? {
        let text = process.waitForStderr { $0.contains("/oauth/authorize?") && $0.contains("waiting") }
        return text?.split(separator: "\n").map { String($0.drop { $0 == " " }) }
            .first { $0.hasPrefix("http") && $0.contains("/oauth/authorize?") }
    }

    /// Opens the authorization URL at the provider; returns where it redirects (tokenrun's listener).
    public static func consent(_ url: String, deny: Bool = false) -> String? {
        guard let response = LoopbackHTTP.request("GET", url + (deny ? "&test_deny=1" : "")), response.status == 302 else { return nil }
        return response.header("Location")
    }

    /// Delivers the redirect to tokenrun; returns its page.
    public static func deliver(_ location: String) -> LoopbackHTTP.Response? {
        LoopbackHTTP.request("GET", location)
    }

    /// The value of one query parameter of a URL.
    public static func parameter(_ name: String, in url: String) -> String? {
        guard let query = url.split(separator: "?", maxSplits: 1).last else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix(name + "=") {
            return unescape(String(pair.dropFirst(name.count + 1)))
        }
        return nil
    }

    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `url` with one query parameter's value replaced.
    public static func replacing(_ name: String, with value: String, in url: String) -> String {
        guard let query = url.split(separator: "?", maxSplits: 1).last, url.contains("?") else { return url }
        let pairs = query.split(separator: "&").map { $0.hasPrefix(name + "=") ? "\(name)=\(value)" : String($0) }
        return String(url[..<url.firstIndex(of: "?")!]) + "?" + pairs.joined(separator: "&")
    }
}
