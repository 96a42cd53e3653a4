// How one request reaches its endpoint: the proxy chosen as curl chooses it
// (curl's own rules, not libcurl's defaults, so that tokenrun and `curl` agree
// on the same shell), and the CAs it trusts. Worked out here, in tokenrun, and
// sent to the helper explicitly, so that `doctor` shows exactly what a refresh
// will do.
//
// Proxy, first match wins:
//   [network] proxy in config.toml (as git's http.proxy; "" = none)
//   http://  : http_proxy (lower case only: HTTP_PROXY can be set by a CGI
//              request's Proxy: header, so curl ignores it)
//   https:// : https_proxy, then HTTPS_PROXY
//   either   : all_proxy, then ALL_PROXY
// and none when no_proxy / NO_PROXY matches the host. A variable set but empty
// counts as unset, as in curl (curl_getenv).
//
// Trust, first match wins: the profile's [oauth] ca_file, [network] ca_file,
// SSL_CERT_FILE and/or SSL_CERT_DIR, else the system store (libcurl's default).
import TokenrunProfiles
import TokenrunSupport

/// The proxy and trusted CAs for one request.
public struct NetworkRoute: Sendable, Equatable {
    /// The proxy URL as the helper must use it (with any credentials), nil for a direct connection.
    public var proxy: String?
    /// Why this proxy or none: "HTTPS_PROXY", "NO_PROXY matches 127.0.0.1", "no proxy variable is set".
    public var proxySource: String
    /// A PEM bundle to trust instead of the system's.
    public var caFile: String?
    /// A hashed directory of CA certificates (c_rehash) to trust as well.
    public var caDirectory: String?
    /// Where the trusted CAs come from, for messages.
    public var trustSource: String

    /// The proxy as it may be shown: credentials replaced by `***`.
    public var shownProxy: String? { proxy.map(Self.redacted) }

    /// "http://***@proxy:3128 (HTTPS_PROXY)": the proxy and where it was set, for messages.
    public var proxyLabel: String { "\(shownProxy ?? "no proxy") (\(proxySource))" }

    /// "through the proxy http://***@proxy:3128 (HTTPS_PROXY)" or "direct (no proxy variable is set)".
    public var proxyPhrase: String {
        if shownProxy != nil { return "through the proxy \(proxyLabel)" }
        return "direct (\(proxySource))"
    }

    public static func resolve(
        url: String, network: NetworkConfig, profileCAFile: String?, environment: [String: String]
    ) -> NetworkRoute {
        let (proxy, proxySource) = chooseProxy(url: url, configured: network.proxy, environment: environment)
        var route = NetworkRoute(proxy: proxy, proxySource: proxySource, caFile: nil, caDirectory: nil, trustSource: "")
        let home = environment["HOME"] ?? ""
        func expanded(_ path: String) -> String { path.hasPrefix("~/") && !home.isEmpty ? home + path.dropFirst() : path }
        if let file = profileCAFile {
            route.caFile = expanded(file)
            route.trustSource = "the profile's ca_file \(route.caFile!)"
        } else if let file = network.caFile {
            route.caFile = expanded(file)
            route.trustSource = "[network] ca_file \(route.caFile!) in config.toml"
        } else {
            let file = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            let directory = environment["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            route.caFile = file
            route.caDirectory = directory
            switch (file, directory) {
            case (let file?, let directory?): route.trustSource = "SSL_CERT_FILE=\(file) and SSL_CERT_DIR=\(directory)"
            case (let file?, nil): route.trustSource = "SSL_CERT_FILE=\(file)"
            case (nil, let directory?): route.trustSource = "SSL_CERT_DIR=\(directory) and the system's trusted CAs"
            case (nil, nil): route.trustSource = "the system's trusted CAs"
            }
        }
        return route
    }

    static func chooseProxy(url: String, configured: String?, environment: [String: String]) -> (String?, String) {
        let scheme = url.firstRange(of: "://").map { url[..<$0.lowerBound].lowercased() } ?? "https"
        let host = Endpoint.host(ofURL: url) ?? ""
        var chosen: (value: String, source: String)?
        if let configured {
            chosen = (configured, "[network] proxy in config.toml")
        } else {
            let names = (scheme == "http" ? ["http_proxy"] : ["https_proxy", "HTTPS_PROXY"]) + ["all_proxy", "ALL_PROXY"]
            if let name = names.first(where: { environment[$0]?.isEmpty == false }) { chosen = (environment[name]!, name) }
        }
        guard let chosen else { return (nil, "no proxy variable is set") }
        if chosen.value.isEmpty { return (nil, "\(chosen.source) is empty") }
        for name in ["no_proxy", "NO_PROXY"] {
            if let list = environment[name], !list.isEmpty {
                if noProxyMatches(host: host, list: list) { return (nil, "\(name) matches \(host)") }
                break
            }
        }
        return (chosen.value, chosen.source)
    }

    /// curl's no_proxy rules: `*` alone for every host; else a list (commas, and
    /// spaces around them) of names, each matching itself and its subdomains (one
    /// leading dot is the same), and IP addresses or CIDR blocks matching addresses.
    /// Where curl is silent or odd, the useful reading: IPv6 entries may be bracketed
    /// and are compared as addresses, and a /0 block matches every address of its family.
    static func noProxyMatches(host rawHost: String, list: String) -> Bool {
        var host = rawHost.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        if list.withoutOuterBlanks == "*" { return true }
        let entries = list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        for var entry in entries {
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasSuffix(".") { entry.removeLast() }
            if entry.isEmpty { continue }
            if let address = IPAddress(host) {
                let parts = entry.split(separator: "/", maxSplits: 1)
                guard let network = IPAddress(String(parts[0])), network.bytes.count == address.bytes.count else { continue }
                let bits = parts.count == 2 ? Int(parts[1]) ?? -1 : network.bytes.count * 8
                if (0...(network.bytes.count * 8)).contains(bits) && address.sharesPrefix(with: network, bits: bits) { return true }
            } else if host == entry || host.hasSuffix("." + entry) {
                return true
            }
        }
        return false
    }

    /// `scheme://user:password@host:port` → `scheme://***@host:port` (CredentialURL).
    public static func redacted(_ url: String) -> String { CredentialURL.redacted(url) }

    /// `text` with the proxy's credentials, if it carries any, replaced by `***`.
    public func scrubbed(_ text: String) -> String {
        guard let proxy else { return text }
        return CredentialURL.scrubbed(text, of: proxy)
    }
}

/// An IPv4 or IPv6 address, parsed only as far as no_proxy needs.
struct IPAddress: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        if text.contains(":") {
            guard let bytes = Self.parse6(text) else { return nil }
            self.bytes = bytes
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
                bytes.append(value)
            }
            self.bytes = bytes
        }
    }

    static func parse6(_ text: String) -> [UInt8]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    func sharesPrefix(with other: IPAddress, bits: Int) -> Bool {
        var left = bits
        for (a, b) in zip(bytes, other.bytes) {
            if left <= 0 { return true }
            let mask: UInt8 = left >= 8 ? 0xff : ~(0xff >> UInt8(left))
            if a & mask != b & mask { return false }
            left -= 8
        }
        return true
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var withoutOuterBlanks: Substring {
        var text = self[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
