// The `[network]` table of config.toml: one place for the proxy and a private
// CA, for users who want them out of their shell's environment (as git's
// http.proxy and http.sslCAInfo). Applied only when a request is made.
import TokenrunSupport

/// Network settings for every profile.
public struct NetworkConfig: Sendable, Equatable {
    public static let keys = ["proxy", "ca_file"]

    /// The proxy for every request, ahead of https_proxy and the others; "" means none (direct).
    public var proxy: String?
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?

    public init(proxy: String? = nil, caFile: String? = nil) {
        self.proxy = proxy
        self.caFile = caFile
    }

    /// Why `path` cannot name a CA file, or nil: it must be absolute or start with `~/`,
    /// so that it means the same file wherever tokenrun runs from.
    public static func problem(withCAFile path: String) -> String? {
        if path.hasPrefix("/") || path.hasPrefix("~/") { return nil }
        return "\(Quoting.message(path)) is not an absolute path (write /path/to/ca.pem or ~/path/to/ca.pem)"
    }

    /// Why `url` cannot name a proxy, or nil. The scheme is optional (http:// is meant, as curl takes it).
    public static func problem(withProxy url: String) -> String? {
        if url.isEmpty { return nil }
        if url.contains(where: { $0 == " " || $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }) {
            return "the proxy URL contains spaces or control characters"
        }
        if let schemeEnd = url.firstRange(of: "://") {
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            guard ["http", "https", "socks4", "socks4a", "socks5", "socks5h"].contains(scheme) else {
                return "the proxy scheme \(Quoting.message(scheme)) is not one of http, https, socks4, socks4a, socks5, socks5h"
            }
        }
        return nil
    }

    /// Reads the `[network]` table of `file`.
    static func parse(_ table: TOMLTable, file: String) throws -> NetworkConfig {
        var config = NetworkConfig()
        for entry in table.entries {
            try GlobalConfig.checkKey(entry, among: keys, prefix: "network.", file: file)
            guard case .string(let value) = entry.value else {
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(file: file, line: entry.line, message: "network.\(entry.key) must be a string"))
            }
            let problem = entry.key == "proxy" ? problem(withProxy: value) : problem(withCAFile: value)
            if let problem {
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(file: file, line: entry.line, message: "network.\(entry.key): \(problem)"))
            }
            if entry.key == "proxy" { config.proxy = value } else { config.caFile = value }
        }
        return config
    }
}
