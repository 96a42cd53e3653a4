// One authenticated form POST to an OAuth endpoint (token, device
// authorization, revocation): client authentication as the profile says
// (RFC 6749 §2.3), transport failures mapped to `TokenEndpointError`. Secrets
// go only into the body or the Authorization header, never into the URL.

import TokenrunVersion

/// A form POST to one OAuth endpoint.
struct OAuthPost {
    let url: String
    let transport: any HTTPTransport
    let limits: TransportLimits
    /// How messages name the endpoint ("token endpoint", "revocation endpoint").
    let what: String

    func send(_ fields: [(String, String)], client: ClientCredentials) throws(TokenEndpointError) -> HTTPResponse {
        var fields = fields
        var headers = [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
            ("User-Agent", TokenrunVersion.userAgent),
        ]
        switch client.method {
        case .clientSecretBasic:
            guard let secret = client.secret else {
                throw .invalidClient(description: "no client secret is configured for client_secret_basic")
            }
            headers.append(("Authorization", FormEncoding.basicAuthorization(clientID: client.clientID, secret: secret.value)))
        case .clientSecretPost:
            fields.append(("client_id", client.clientID))
            if let secret = client.secret { fields.append(("client_secret", secret.value)) }
        case .none:
            fields.append(("client_id", client.clientID))
        }
        let request = HTTPRequest(url: url, headers: headers, body: Array(FormEncoding.encode(fields).utf8))
        do {
            return try transport.post(request, limits: limits)
        } catch {
            switch error {
            case .connectFailed(let why): throw .transient(reason: "cannot reach the \(what) \(url): \(why)", retryAfter: nil)
            case .timedOut(let why): throw .uncertain(reason: "the \(what) \(url) timed out: \(why)")
            case .responseTooLarge(let limit):
                throw .unreadable(reason: "the \(what)'s answer is larger than \(limit / 1024) KiB; check its URL (\(url))")
            case .failed(let why): throw .uncertain(reason: "the request to \(url) failed: \(why)")
            case .helperMissing(let path): throw .helperMissing(path: path)
            case .proxyFailed(let proxy, let why):
                throw .transient(reason: "cannot reach the \(what) \(url) through the proxy \(proxy): \(why)", retryAfter: nil)
            case .proxyAuthentication(let proxy, let why): throw .proxyAuthentication(proxy: proxy, why: why)
            case .tlsFailed(let host, let why):
                throw .transient(reason: "the TLS handshake with \(host) (the \(what)) failed: \(why)", retryAfter: nil)
            case .certificateRejected(let host, let problem, let trust):
                throw .certificateRejected(host: host, problem: problem, trust: trust)
            case .caFileUnusable(let trust, let why): throw .caFileUnusable(trust: trust, why: why)
            }
        }
    }
}
