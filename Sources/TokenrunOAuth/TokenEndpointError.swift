// How the token endpoint's answers are classified (README.md, "Exit status"; RFC 6749
// §5.2). Descriptions from the provider are shown to the user; bodies are only
// quoted when they are not JSON, so a malformed token response is never echoed
// (it might hold a token).

/// A failed exchange with the token endpoint.
public enum TokenEndpointError: Error, Sendable, Equatable {
    /// The refresh token (or code) is dead: revoked, expired, rotated away, or the password changed.
    case invalidGrant(description: String?)
    /// The client id or secret was rejected.
    case invalidClient(description: String?)
    case invalidScope(description: String?)
    case unauthorizedClient(description: String?)
    case unsupportedGrantType(description: String?)
    /// The refresh token (or device code) timed out.
    case expiredToken(description: String?)
    /// Device flow: the user has not answered yet (RFC 8628 §3.5).
    case authorizationPending
    /// Device flow: poll less often (RFC 8628 §3.5).
    case slowDown(retryAfter: Int?)
    /// The user (or an administrator) refused consent.
    case accessDenied(description: String?)
    /// Another RFC 6749 error code.
    case other(code: String, description: String?, status: Int)
    /// A 4xx answer without an OAuth error code (an empty body, HTML, other JSON):
    /// the endpoint refused the request and says no more. Some servers answer a
    /// disabled refresh token this way (glewlwyd: HTTP 400, empty body).
    case refused(status: Int, reason: String)
    /// Network trouble, a timeout, 5xx, 408 or 429: worth retrying.
    case transient(reason: String, retryAfter: Int?)
    /// An answer that is not an OAuth token response (HTML, malformed JSON, a redirect).
    case unreadable(reason: String)
    /// The request may have reached the server but no answer came (timeout, dropped
    /// connection, helper killed). Never retried: with refresh-token rotation the
    /// server may already have rotated the token, and resending it would be reuse.
    case uncertain(reason: String)
    /// tokenrun-http, which makes the request, could not be started.
    case helperMissing(path: String)
    /// The endpoint's certificate is not trusted (`problem`: unknown issuer, expired,
    /// name mismatch…) by the CAs of `trust`; nothing was sent. Retrying cannot help.
    case certificateRejected(host: String, problem: String, trust: String)
    /// The CAs to trust (`trust` says where they were named) cannot be loaded.
    case caFileUnusable(trust: String, why: String)
    /// The proxy refused tokenrun for want of credentials (HTTP 407); nothing reached the endpoint.
    case proxyAuthentication(proxy: String, why: String)

    /// The class name recorded in the audit trail.
    public var errorClass: String {
        switch self {
        case .invalidGrant: "invalid_grant"
        case .invalidClient: "invalid_client"
        case .invalidScope: "invalid_scope"
        case .unauthorizedClient: "unauthorized_client"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .expiredToken: "expired_token"
        case .authorizationPending: "authorization_pending"
        case .slowDown: "slow_down"
        case .accessDenied: "access_denied"
        case .other(let code, _, _): code
        case .refused: "refused"
        case .transient: "transient"
        case .unreadable: "unreadable"
        case .uncertain: "no_answer"
        case .helperMissing: "helper_missing"
        case .certificateRejected: "certificate"
        case .caFileUnusable: "ca_file"
        case .proxyAuthentication: "proxy_auth"
        }
    }

    /// Whether the refresh token is dead, so only a new login helps.
    public var refreshTokenIsDead: Bool {
        switch self {
        // A refusal that names no cause is final all the same: sending the same token again gets the same answer.
        case .invalidGrant, .expiredToken, .refused: true
        default: false
        }
    }

    /// Whether retrying later may succeed.
    public var isTransient: Bool {
        switch self {
        case .transient, .unreadable, .uncertain, .slowDown: true
        default: false
        }
    }

    /// One line for messages.
    public var explanation: String {
        func with(_ text: String, _ description: String?) -> String {
            description.map { "\(text) (the provider says: \($0))" } ?? text
        }
        switch self {
        case .invalidGrant(let d): return with("the provider rejected the refresh token (invalid_grant)", d)
        case .invalidClient(let d): return with("the provider rejected the client credentials (invalid_client)", d)
        case .invalidScope(let d): return with("the provider refused the requested scopes (invalid_scope)", d)
        case .unauthorizedClient(let d): return with("this client may not use the refresh_token grant (unauthorized_client)", d)
        case .unsupportedGrantType(let d):
            return with("the provider does not support the refresh_token grant here (unsupported_grant_type)", d)
        case .expiredToken(let d): return with("the refresh token has expired (expired_token)", d)
        case .authorizationPending: return "the user has not finished the login yet (authorization_pending)"
        case .slowDown: return "the token endpoint asked to poll less often (slow_down)"
        case .accessDenied(let d): return with("consent was refused (access_denied)", d)
        case .other(let code, let d, let status): return with("the token endpoint answered HTTP \(status) with error \"\(code)\"", d)
        case .refused(_, let reason): return reason
        case .transient(let reason, _): return reason
        case .unreadable(let reason): return reason
        case .uncertain(let reason): return reason
        case .helperMissing(let path): return "cannot run the network helper \(path)"
        case .certificateRejected(let host, let problem, let trust):
            return "the certificate of \(host) is not trusted (\(problem)), checked against \(trust)"
        case .caFileUnusable(let trust, let why): return "cannot load the CAs of \(trust): \(why)"
        case .proxyAuthentication(let proxy, let why): return "the proxy \(proxy) refused the request: \(why)"
        }
    }
}
