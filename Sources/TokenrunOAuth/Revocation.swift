// Token revocation (RFC 7009). The server answers 200 also for tokens it does
// not know (§2.2), so any 200 means the token is dead there.
import TokenrunSupport

/// Revokes a token at a revocation endpoint.
public enum Revocation {
    /// Revokes `token` (a refresh token unless `hint` says otherwise).
    public static func revoke(
        _ token: SecretString, hint: String = "refresh_token", url: String, client: ClientCredentials, transport: any HTTPTransport,
        limits: TransportLimits = TransportLimits()
    ) throws(TokenEndpointError) {
        let response = try OAuthPost(url: url, transport: transport, limits: limits, what: "revocation endpoint")
            .send([("token", token.value), ("token_type_hint", hint)], client: client)
        if (200..<300).contains(response.status) { return }
        if response.status == 503 || response.status == 429 || response.status >= 500 {
            throw .transient(reason: "the revocation endpoint answered HTTP \(response.status)", retryAfter: nil)
        }
        // RFC 7009 §2.2.1: errors are RFC 6749 §5.2 JSON.
        _ = try TokenEndpoint.interpret(response, url: url)
        throw .unreadable(reason: "the revocation endpoint \(url) answered HTTP \(response.status)")
    }
}
