// A cheap request to a token endpoint, for `doctor`: a form POST with a grant
// type no server knows and no client authentication, so it carries no secret
// and cannot use up or rotate anything. Any HTTP answer proves the endpoint is
// reachable; its `Date` header gives the server's clock.
import TokenrunSupport

import TokenrunVersion

/// One probe of a token endpoint.
public struct EndpointProbe: Sendable {
    /// The grant type sent: unknown everywhere, answered with an OAuth error.
    public static let grantType = "tokenrun_doctor_probe"

    public let url: String
    public let transport: any HTTPTransport
    public var limits: TransportLimits
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }

    public init(url: String, transport: any HTTPTransport) {
        self.url = url
        self.transport = transport
        var limits = TransportLimits()
        limits.connectTimeout = 5
        limits.totalTimeout = 10
        limits.maxResponseBytes = 64 << 10
        self.limits = limits
    }

    /// What the endpoint's answer looked like.
    public enum Body: Sendable, Equatable {
        /// JSON (an OAuth error such as unsupported_grant_type, usually), with its `error` code if any.
        case json(error: String?)
        /// An HTML page: a captive portal, a proxy's error page or a wrong URL.
        case html(contentType: String)
        /// A redirect, which token requests never follow.
        case redirect(location: String?)
        /// Anything else (empty, plain text), described by its content type.
        case other(contentType: String)
    }

    /// How the probe went.
    public enum Outcome: Sendable, Equatable {
        /// The endpoint answered. `clockSkew` is its clock minus ours (from `Date`), nil without one.
        case answered(status: Int, body: Body, clockSkew: Int64?)
        /// No answer: connection refused, DNS, TLS, timeout.
        case unreachable(reason: String)
        /// The network helper could not be started.
        case helperMissing(path: String)
        /// TLS refused the server's certificate: `problem` (unknown issuer, expired, …) against `trust`.
        case untrusted(host: String, problem: String, trust: String)
        /// The CAs to trust cannot be loaded.
        case caFileUnusable(trust: String, why: String)
    }

    /// Sends the probe and classifies the answer.
    public func run() -> Outcome {
        let request = HTTPRequest(
            url: url,
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
                ("User-Agent", TokenrunVersion.userAgent),
            ],
            body: Array(FormEncoding.encode([("grant_type", Self.grantType)]).utf8))
        let response: HTTPResponse
        do {
            response = try transport.post(request, limits: limits)
        } catch {
            switch error {
            case .connectFailed(let why): return .unreachable(reason: why)
            case .timedOut(let why): return .unreachable(reason: "timed out: \(why)")
            case .failed(let why): return .unreachable(reason: why)
            case .helperMissing(let path): return .helperMissing(path: path)
            case .proxyFailed(let proxy, let why), .proxyAuthentication(let proxy, let why):
                return .unreachable(reason: "through the proxy \(proxy): \(why)")
            case .tlsFailed(let host, let why): return .unreachable(reason: "the TLS handshake with \(host) failed: \(why)")
            case .certificateRejected(let host, let problem, let trust): return .untrusted(host: host, problem: problem, trust: trust)
            case .caFileUnusable(let trust, let why): return .caFileUnusable(trust: trust, why: why)
            case .responseTooLarge(let limit):
                return .answered(status: 200, body: .other(contentType: "more than \(limit / 1024) KiB"), clockSkew: nil)
            }
        }
        let now = clock()
        let skew = response.header("Date").flatMap(HTTPDate.parse).map { $0 - now }
        return .answered(status: response.status, body: Self.classify(response), clockSkew: skew)
    }

    static func classify(_ response: HTTPResponse) -> Body {
        if (300..<400).contains(response.status) { return .redirect(location: response.header("Location")) }
        let contentType = response.header("Content-Type") ?? "no content type"
        if case .object(let object)? = JSONValue.parse(response.body) {
            if case .string(let code)? = object["error"] { return .json(error: TokenEndpoint.sanitize(code)) }
            return .json(error: nil)
        }
        var body = response.body[...]
        body = body.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
        if contentType.lowercased().contains("html") || body.first == UInt8(ascii: "<") { return .html(contentType: contentType) }
        return .other(contentType: contentType)
    }
}
