// The refresh_token grant (RFC 6749 §6) and the reading of token responses.
// Client authentication: client_secret_basic, client_secret_post, or none for
// public clients. The refresh token and client secret go only into the POST
// body or Authorization header: never into the URL, a log or an error.
import TokenrunProfiles
import TokenrunSupport

/// A successful token response.
public struct TokenGrant: Sendable, Equatable {
    /// Lifetime assumed when the provider gives no expires_in.
    public static let assumedLifetime: Int64 = 3600

    public var accessToken: SecretString
    public var tokenType: String
    /// Lifetime in seconds, when the provider said.
    public var expiresIn: Int64?
    /// A new refresh token, when the provider rotated it.
    public var refreshToken: SecretString?
    public var scope: String?
    public var idToken: SecretString?
}

/// What the response said besides the grant: the server's clock.
public struct TokenExchange: Sendable {
    public var grant: TokenGrant
    /// Server time minus local time at arrival, from the `Date` header.
    public var clockSkew: Int64?
    /// Local time when the response arrived.
    public var receivedAt: Int64
}

/// The client's identity at the token endpoint.
public struct ClientCredentials: Sendable {
    public var clientID: String
    public var secret: SecretString?
    public var method: ClientAuthMethod

    public init(clientID: String, secret: SecretString?, method: ClientAuthMethod?) {
        self.clientID = clientID
        self.secret = secret
        self.method = method ?? (secret == nil ? .none : .clientSecretBasic)
    }
}

/// Talks to one token endpoint.
public struct TokenEndpoint: Sendable {
    public let url: String
    public let transport: any HTTPTransport
    public var limits = TransportLimits()
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }

    public init(url: String, transport: any HTTPTransport) {
        self.url = url
        self.transport = transport
    }

    /// Exchanges a refresh token for a new access token.
    public func refresh(_ refreshToken: SecretString, client: ClientCredentials) throws(TokenEndpointError) -> TokenExchange {
        do { return try attemptRefresh(refreshToken, client: client) } catch { throw error.error }
    }

    /// `refresh`, failing with what the failing answer carried: its status, its clock, a rotated refresh token.
    public func attemptRefresh(_ refreshToken: SecretString, client: ClientCredentials) throws(TokenEndpointFailure) -> TokenExchange {
        try unattendedAttempt([("grant_type", "refresh_token"), ("refresh_token", refreshToken.value)], client: client)
    }

    /// A request made without a person waiting: slow_down is one more transient answer.
    func unattendedAttempt(_ fields: [(String, String)], client: ClientCredentials) throws(TokenEndpointFailure) -> TokenExchange {
        do {
            return try attempt(fields, client: client)
        } catch {
            guard case .slowDown(let retryAfter) = error.error else { throw error }
            var failure = error
            failure.error = .transient(reason: "the token endpoint answered slow_down", retryAfter: retryAfter)
            throw failure
        }
    }

    /// Redeems an authorization code (RFC 6749 §4.1.3) with its PKCE verifier and the same redirect_uri.
    public func authorizationCode(
        _ code: String, redirectURI: String, verifier: SecretString, client: ClientCredentials
    ) throws(TokenEndpointError) -> TokenExchange {
        try exchange(
            [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                ("code_verifier", verifier.value),
            ], client: client)
    }

    /// Polls for a device code's tokens (RFC 8628 §3.4).
    public func deviceCode(_ deviceCode: SecretString, client: ClientCredentials) throws(TokenEndpointError) -> TokenExchange {
        try exchange(
            [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode.value)], client: client)
    }

    /// The client credentials grant (RFC 6749 §4.4): a token for the client itself.
    public func clientCredentials(scopes: [String], client: ClientCredentials) throws(TokenEndpointError) -> TokenExchange {
        do { return try attemptClientCredentials(scopes: scopes, client: client) } catch { throw error.error }
    }

    /// `clientCredentials`, failing with what the failing answer carried.
    public func attemptClientCredentials(scopes: [String], client: ClientCredentials) throws(TokenEndpointFailure) -> TokenExchange {
        var fields = [("grant_type", "client_credentials")]
        if !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: " "))) }
        return try unattendedAttempt(fields, client: client)
    }

    /// One token request with `fields`, authenticated as `client`.
    public func exchange(_ fields: [(String, String)], client: ClientCredentials) throws(TokenEndpointError) -> TokenExchange {
        do { return try attempt(fields, client: client) } catch { throw error.error }
    }

    /// One token request; a failure keeps the answer's status, its `Date` and any rotated refresh token.
    func attempt(_ fields: [(String, String)], client: ClientCredentials) throws(TokenEndpointFailure) -> TokenExchange {
        let response: HTTPResponse
        do {
            response = try OAuthPost(url: url, transport: transport, limits: limits, what: "token endpoint").send(fields, client: client)
        } catch {
            throw TokenEndpointFailure(error)
        }
        let now = clock()
        let skew = response.header("Date").flatMap(HTTPDate.parse).map { $0 - now }
        do {
            return TokenExchange(grant: try Self.interpret(response, url: url), clockSkew: skew, receivedAt: now)
        } catch {
            throw TokenEndpointFailure(
                error, httpStatus: response.status, clockSkew: skew, refreshToken: Self.rotatedRefreshToken(in: response))
        }
    }

    /// The refresh token of a 2xx token response that was unusable for another
    /// reason. The provider has rotated by then, so the old token is spent.
    static func rotatedRefreshToken(in response: HTTPResponse) -> SecretString? {
        guard (200..<300).contains(response.status), case .object(let object)? = JSONValue.parse(response.body) else { return nil }
        if case .string? = object["error"] { return nil }
        guard case .string(let value)? = object["refresh_token"], !value.isEmpty, !hasSpaceOrControl(value) else { return nil }
        return SecretString(value)
    }

    /// Tokens are sent in headers and form bodies: no spaces or control characters.
    static func hasSpaceOrControl(_ value: String) -> Bool {
        value.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f })
    }

    /// Classifies a token endpoint response (pure; unit-tested on its own).
    public static func interpret(_ response: HTTPResponse, url: String) throws(TokenEndpointError) -> TokenGrant {
        let status = response.status
        // Headers come from the server as much as the body does: cleaned before they are quoted.
        let contentType = response.header("Content-Type").map { sanitize($0) } ?? "no content type"
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.seconds($0) }
        if (300..<400).contains(status) {
            throw .unreadable(
                reason:
                    "the token endpoint \(url) redirected (HTTP \(status)) to \(response.header("Location").map { sanitize($0) } ?? "nowhere"); token requests are not redirected: check token_endpoint"
            )
        }
        if status == 429 || status == 408 || status >= 500 {
            throw .transient(
                reason: "the token endpoint answered HTTP \(status)\(retryAfter.map { " (Retry-After: \($0) s)" } ?? "")",
                retryAfter: retryAfter)
        }
        if status == 407 {
            // The proxy's answer, not the endpoint's: the refresh token was never judged.
            throw .unreadable(
                reason:
                    "a proxy demanded credentials (HTTP 407) before the token endpoint \(url) was reached; put them in https_proxy (https://user:password@host:port)"
            )
        }
        guard let json = JSONValue.parse(response.body) else {
            if let refusal = refusalWithoutCode(response, status: status, contentType: contentType, url: url) { throw refusal }
            throw .unreadable(reason: describeNonJSON(response, status: status, contentType: contentType, url: url))
        }
        guard case .object(let object) = json else {
            if let refusal = refusalWithoutCode(response, status: status, contentType: contentType, url: url) { throw refusal }
            throw .unreadable(reason: "the token endpoint answered HTTP \(status) with JSON \(json.typeName), not an object")
        }
        if case .string(let code)? = object["error"] {
            let description: String? = if case .string(let text)? = object["error_description"] { sanitize(text) } else { nil }
            switch code {
            // GitHub says bad_refresh_token; OIDC providers say a user must sign in again.
            case "invalid_grant", "bad_refresh_token", "interaction_required", "login_required", "consent_required":
                throw .invalidGrant(description: description ?? (code == "invalid_grant" ? nil : code))
            case "invalid_client", "unauthorized", "incorrect_client_credentials": throw .invalidClient(description: description)
            case "invalid_scope": throw .invalidScope(description: description)
            case "unauthorized_client": throw .unauthorizedClient(description: description)
            case "unsupported_grant_type": throw .unsupportedGrantType(description: description)
            case "expired_token": throw .expiredToken(description: description)
            case "temporarily_unavailable", "server_error":
                throw .transient(reason: "the token endpoint answered \(code)", retryAfter: retryAfter)
            case "slow_down": throw .slowDown(retryAfter: retryAfter)
            case "authorization_pending": throw .authorizationPending
            case "access_denied": throw .accessDenied(description: description)
            default: throw .other(code: sanitize(code), description: description, status: status)
            }
        }
        guard (200..<300).contains(status) else {
            if let refusal = refusalWithoutCode(response, status: status, contentType: contentType, url: url) { throw refusal }
            throw .unreadable(reason: "the token endpoint answered HTTP \(status) with JSON that is neither a token nor an OAuth error")
        }
        return try grant(from: object, status: status)
    }

    static func grant(from object: [String: JSONValue], status: Int) throws(TokenEndpointError) -> TokenGrant {
        func token(_ key: String, required: Bool) throws(TokenEndpointError) -> SecretString? {
            switch object[key] {
            case .string(let value)?:
                guard !value.isEmpty else { throw .unreadable(reason: "the token response's \(key) is empty") }
                guard !hasSpaceOrControl(value) else {
                    throw .unreadable(reason: "the token response's \(key) contains spaces or control characters")
                }
                return SecretString(value)
            case nil, .null?:
                if required { throw .unreadable(reason: "the token response (HTTP \(status)) has no \(key)") }
                return nil
            case let other?:
                throw .unreadable(reason: "the token response's \(key) is \(other.typeName), not a string")
            }
        }
        let access = try token("access_token", required: true)!
        let refresh = try token("refresh_token", required: false)
        let idToken = try token("id_token", required: false)
        var tokenType = "Bearer"
        switch object["token_type"] {
        case .string(let value)?: tokenType = value.lowercased() == "bearer" ? "Bearer" : sanitize(value)
        case nil, .null?: break
        case let other?: throw .unreadable(reason: "the token response's token_type is \(other.typeName), not a string")
        }
        var expiresIn: Int64?
        switch object["expires_in"] {
        case .integer(let value)?: expiresIn = value
        case .number(let value)?:
            expiresIn = value.isFinite ? Int64(exactly: value.rounded(.down)) : nil
            if expiresIn == nil { throw .unreadable(reason: "the token response's expires_in is not a whole number") }
        case .string(let text)?:
            guard let value = Int64(text) else {
                throw .unreadable(reason: "the token response's expires_in (\"\(sanitize(text))\") is not a number")
            }
            expiresIn = value
        case nil, .null?: break
        case let other?: throw .unreadable(reason: "the token response's expires_in is \(other.typeName), not a number")
        }
        if let value = expiresIn, value <= 0 || value > 10 * 366 * 86400 {
            throw .unreadable(reason: "the token response's expires_in (\(value)) is not a plausible lifetime")
        }
        var scope: String?
        if case .string(let value)? = object["scope"] { scope = value }
        return TokenGrant(
            accessToken: access, tokenType: tokenType, expiresIn: expiresIn, refreshToken: refresh, scope: scope, idToken: idToken)
    }

    /// A 4xx answer without an OAuth error code is a refusal all the same (408 and
    /// 429 never get here): the endpoint judged the request and said no. RFC 6749
    /// §5.2 lets a rejected client get a bare 401, so 401 means the client.
    static func refusalWithoutCode(_ response: HTTPResponse, status: Int, contentType: String, url: String) -> TokenEndpointError? {
        guard (400..<500).contains(status) else { return nil }
        if status == 401 { return .invalidClient(description: nil) }
        var body = response.body[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        body = body.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        let what: String
        if body.isEmpty {
            what = "an empty body (\(contentType))"
        } else if body.first == UInt8(ascii: "<") {
            what = "an HTML page (\(contentType)): \"\(sanitize(String(decoding: body.prefix(80), as: UTF8.self)))\""
        } else if JSONValue.parse(response.body) != nil {
            what = "JSON without an OAuth error code (\(response.body.count) bytes)"
        } else {
            // Not quoted: it might be a token response in another format.
            what = "\(response.body.count) bytes that are not JSON (\(contentType))"
        }
        let place = [404, 405, 410].contains(status) ? "; is token_endpoint (\(url)) right?" : ""
        return .refused(
            status: status, reason: "the token endpoint refused the request with HTTP \(status) and \(what), naming no OAuth error\(place)")
    }

    /// What came back instead of JSON. Only an HTML page is quoted (its start, to
    /// name the portal or proxy); any other body might be a token response in
    /// another format, so it is described by type and size, never quoted.
    static func describeNonJSON(_ response: HTTPResponse, status: Int, contentType: String, url: String) -> String {
        var body = response.body[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        body = body.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        let hint = "a proxy, captive portal or wrong token_endpoint (\(url))?"
        if body.isEmpty { return "the token endpoint answered HTTP \(status) (\(contentType)) with an empty body; \(hint)" }
        if body.first == UInt8(ascii: "{") || body.first == UInt8(ascii: "[") {
            return
                "the token endpoint answered HTTP \(status) with malformed or truncated JSON (\(response.body.count) bytes, \(contentType))"
        }
        if body.first == UInt8(ascii: "<") {
            let excerpt = sanitize(String(decoding: body.prefix(80), as: UTF8.self))
            return "the token endpoint answered HTTP \(status) with an HTML page (\(contentType)): \"\(excerpt)\"; \(hint)"
        }
        return "the token endpoint answered HTTP \(status) with \(response.body.count) bytes that are not JSON (\(contentType)); \(hint)"
    }

    /// Keeps provider text printable and short.
    static func sanitize(_ text: String) -> String { Quoting.cleaned(text) }
}
