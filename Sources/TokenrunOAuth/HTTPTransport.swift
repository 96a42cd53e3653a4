// The network boundary: one POST, bounded in time and size, no redirects.
// Only the OAuth folder touches the network; the warm path never reaches here.
import TokenrunProfiles
import TokenrunSupport

/// A request to send.
public struct HTTPRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(url: String, headers: [(String, String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What came back.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header of that name, case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }
}

/// Why no response arrived.
public enum TransportError: Error, Sendable, Equatable {
    case connectFailed(String)
    case timedOut(String)
    case responseTooLarge(limit: Int)
    case failed(String)
    /// The network helper program could not be started (an installation problem).
    case helperMissing(String)
    /// The proxy (shown with its credentials as `***`) is down or refused the tunnel; nothing reached the endpoint.
    case proxyFailed(proxy: String, why: String)
    /// The proxy wants credentials (HTTP 407) it was not given, or refused them: retrying cannot help.
    case proxyAuthentication(proxy: String, why: String)
    /// The endpoint's certificate was not trusted ("unknown issuer", "expired", "name mismatch", …); nothing was sent.
    case certificateRejected(host: String, problem: String, trust: String)
    /// The TLS handshake failed for another reason than the certificate; nothing was sent.
    case tlsFailed(host: String, why: String)
    /// The CA file or directory to trust cannot be read.
    case caFileUnusable(trust: String, why: String)
}

/// Limits for one exchange.
public struct TransportLimits: Sendable {
    public var connectTimeout: Double = 10
    public var totalTimeout: Double = 30
    public var maxResponseBytes: Int = 256 << 10
    /// config.toml's `[network]` table: the proxy and CA file for every profile.
    public var network = NetworkConfig()
    /// The profile's own `[oauth] ca_file`, ahead of every other source of trust.
    public var caFile: String?

    public init() {}

    /// The defaults (with `TOKENRUN_HTTP_TIMEOUT`) and the network settings for `profile`'s requests.
    public init(environment: [String: String], network: NetworkConfig, profile: Profile) {
        self.init(environment: environment)
        self.network = network
        caFile = profile.oauth.caFile
    }

    /// Sets the total time one token request may take, in seconds ("20", "20s", "1m").
    public static let timeoutVariable = "TOKENRUN_HTTP_TIMEOUT"

    /// The defaults, with the total timeout taken from `TOKENRUN_HTTP_TIMEOUT`
    /// when it holds a duration from 1 s to 5 min (anything else is ignored);
    /// connecting never gets longer than the whole request.
    public init(environment: [String: String]) {
        self.init()
        if let text = environment[Self.timeoutVariable], let seconds = DurationParser.seconds(text), (1...300).contains(seconds) {
            totalTimeout = Double(seconds)
            connectTimeout = min(connectTimeout, totalTimeout)
        }
    }
}

/// Sends one HTTP POST. Implementations must not follow redirects.
public protocol HTTPTransport: Sendable {
    func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse
}
