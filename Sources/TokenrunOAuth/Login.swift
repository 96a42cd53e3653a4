// The three ways to obtain a grant: authorization code with PKCE on
// a loopback redirect (RFC 6749 §4.1, RFC 7636, RFC 8252), the device
// authorization grant (RFC 8628), and client credentials (RFC 6749 §4.4).
// The library never prints: progress goes to `events`, which the command turns
// into terminal output. What is shown is public (URLs, user codes); codes,
// verifiers and tokens stay in SecretStrings and request bodies.
import TokenrunProfiles
import TokenrunSodium
import TokenrunSupport
import TokenrunVault

/// Something the person logging in should see.
public enum LoginEvent: Sendable {
    /// Open this URL in a browser.
    case authorizationURL(String)
    /// Enter `userCode` at `verificationURI`.
    case deviceCode(DeviceAuthorization)
    /// Still waiting; so many seconds are left.
    case waiting(secondsLeft: Int64)
    /// The provider asked to poll less often; polls are now this many seconds apart.
    case slowDown(interval: Int64)
    /// A poll failed transiently; polling goes on.
    case retrying(String)
}

/// Runs a login for one profile.
public struct Login: Sendable {
    public let profile: Profile
    public let client: ClientCredentials
    public let transport: any HTTPTransport
    /// Timeouts, proxy and trust for every request of the login.
    public var limits = TransportLimits()
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }
    public var monotonicMs: @Sendable () -> Int64 = { Monotonic.milliseconds() }
    public var sleep: @Sendable (Double) -> Void = { Monotonic.sleep($0) }

    public init(profile: Profile, client: ClientCredentials, transport: any HTTPTransport) {
        self.profile = profile
        self.client = client
        self.transport = transport
    }

    var tokenEndpoint: TokenEndpoint {
        get throws {
            guard let url = profile.oauth.tokenEndpoint else {
                throw TokenrunError.profileIncomplete(profile: profile.name, missing: "oauth.token_endpoint")
            }
            var endpoint = TokenEndpoint(url: url, transport: transport)
            endpoint.clock = clock
            endpoint.limits = limits
            return endpoint
        }
    }

    // MARK: Authorization code

    /// The URL the browser must open.
    public func authorizationURL(redirectURI: String, pkce: PKCE) throws -> String {
        guard let endpoint = profile.oauth.authorizationEndpoint else {
            throw TokenrunError.profileIncomplete(
                profile: profile.name, missing: "oauth.authorization_endpoint (or log in with --device if the provider supports it)")
        }
        var fields = [("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", redirectURI)]
        if !profile.oauth.scopes.isEmpty { fields.append(("scope", profile.oauth.scopes.joined(separator: " "))) }
        fields += [("state", pkce.state), ("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method)]
        let reserved = Set(fields.map(\.0))
        for key in profile.oauth.authorizationParams.keys.sorted() where !reserved.contains(key) {
            fields.append((key, profile.oauth.authorizationParams[key]!))
        }
        return endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(fields)
    }

    /// Waits for the redirect on `listener`, checks it and redeems the code.
    public func authorizationCode(
        listener: LoopbackRedirect, redirectHost: String, pkce: PKCE, timeoutSeconds: Int64,
        events: (LoginEvent) -> Void
    ) throws -> TokenExchange {
        let redirectURI = listener.redirectURI(host: redirectHost)
        let url = try authorizationURL(redirectURI: redirectURI, pkce: pkce)
        let endpoint = try tokenEndpoint
        events(.authorizationURL(url))
        let callback: LoopbackRedirect.Callback
        do {
            callback = try listener.waitForCallback(deadline: monotonicMs() + timeoutSeconds * 1000, now: monotonicMs)
        } catch {
            switch error {
            case .timedOut:
                throw TokenrunError.loginFailed(
                    profile: profile.name,
                    reason: "no answer came back from the browser within \(DurationParser.format(timeoutSeconds))",
                    hint: "run tokenrun login -p \(profile.name) again and finish in the browser sooner (or pass --timeout)")
            case .portInUse(let port):
                throw TokenrunError.loginFailed(
                    profile: profile.name, reason: "cannot listen on 127.0.0.1:\(port)", hint: "close what uses that port")
            case .cannotListen(let why):
                throw TokenrunError.loginFailed(profile: profile.name, reason: "cannot listen on 127.0.0.1: \(why)", hint: nil)
            }
        }
        func fail(_ title: String, _ error: TokenrunError) -> TokenrunError {
            listener.finish(callback, success: false, title: title, message: error.summary)
            return error
        }
        guard let state = callback.state, Sodium.constantTimeEqual(Array(state.utf8), Array(pkce.state.utf8)) else {
            throw fail(
                "Login refused",
                .loginFailed(
                    profile: profile.name,
                    reason:
                        "the redirect's state does not match this login's (it may come from another or forged login attempt); nothing was stored",
                    hint: "run tokenrun login -p \(profile.name) again and use only the URL it prints"))
        }
        if let code = callback.error {
            throw fail("Login not completed", Self.redirectError(code: code, description: callback.errorDescription, profile: profile.name))
        }
        guard let code = callback.code else {
            throw fail("Login failed", .loginFailed(profile: profile.name, reason: "the redirect carried no code", hint: nil))
        }
        do {
            let exchange = try endpoint.authorizationCode(code, redirectURI: redirectURI, verifier: pkce.verifier, client: client)
            try checkRefreshToken(exchange)
            listener.finish(
                callback, success: true, title: "Logged in",
                message: "tokenrun has stored the credential for \(profile.name). You can close this tab.")
            return exchange
        } catch let error as TokenEndpointError {
            throw fail("Login failed", mapped(error, step: .code))
        } catch let error as TokenrunError {
            throw fail("Login failed", error)
        }
    }

    static func redirectError(code: String, description: String?, profile: String) -> TokenrunError {
        let cleaned = TokenEndpoint.sanitize(code)
        let said = description.map { " (the provider says: \($0))" } ?? ""
        let reason: String
        switch cleaned {
        case "access_denied": reason = "consent was refused in the browser (access_denied)\(said)"
        case "invalid_scope": reason = "the provider refused the requested scopes (invalid_scope)\(said)"
        case "unauthorized_client": reason = "this client may not use the authorization code flow (unauthorized_client)\(said)"
        default: reason = "the provider answered the authorization request with \(cleaned)\(said)"
        }
        return .loginFailed(profile: profile, reason: reason, hint: "tokenrun login -p \(profile)")
    }

    // MARK: Device authorization

    /// Starts a device authorization and polls until the person approves, refuses, or the code expires.
    public func device(events: (LoginEvent) -> Void) throws -> TokenExchange {
        guard let url = profile.oauth.deviceAuthorizationEndpoint else {
            throw TokenrunError.profileIncomplete(
                profile: profile.name, missing: "oauth.device_authorization_endpoint (the provider's device flow endpoint)")
        }
        let endpoint = try tokenEndpoint
        let authorization: DeviceAuthorization
        do {
            authorization = try DeviceAuthorization.start(
                url: url, scopes: profile.oauth.scopes, client: client, transport: transport, limits: limits)
        } catch {
            throw mapped(error, step: .deviceStart)
        }
        events(.deviceCode(authorization))
        var interval = authorization.interval
        let deadline = monotonicMs() + authorization.expiresIn * 1000
        while true {
            // Sleep the interval in one-second steps so the countdown can tick.
            let wake = monotonicMs() + interval * 1000
            while monotonicMs() < wake {
                events(.waiting(secondsLeft: max(0, (deadline - monotonicMs()) / 1000)))
                sleep(min(1, Double(wake - monotonicMs()) / 1000))
            }
            if monotonicMs() >= deadline { throw expired() }
            let exchange: TokenExchange
            do {
                exchange = try endpoint.deviceCode(authorization.deviceCode, client: client)
            } catch .authorizationPending {
                continue
            } catch .slowDown {
                interval += 5
                events(.slowDown(interval: interval))
                continue
            } catch .expiredToken {
                throw expired()
            } catch .accessDenied(let description) {
                throw TokenrunError.loginFailed(
                    profile: profile.name,
                    reason: "the login was refused on the verification page (access_denied)" + (description.map { " (\($0))" } ?? ""),
                    hint: "tokenrun login -p \(profile.name) --device")
            } catch .transient(let reason, _), .uncertain(let reason), .unreadable(let reason) {
                events(.retrying(reason))
                continue
            } catch {
                throw mapped(error, step: .devicePoll)
            }
            try checkRefreshToken(exchange)
            return exchange
        }
    }

    func expired() -> TokenrunError {
        .loginFailed(
            profile: profile.name, reason: "the device code expired before the login was approved (expired_token)",
            hint: "tokenrun login -p \(profile.name) --device, then approve within the time shown")
    }

    // MARK: Client credentials

    /// Fetches a token with the client's own credentials.
    public func clientCredentials() throws -> TokenExchange {
        do {
            return try tokenEndpoint.clientCredentials(scopes: profile.oauth.scopes, client: client)
        } catch let error as TokenEndpointError {
            throw mapped(error, step: .clientCredentials)
        }
    }

    // MARK: Results

    /// A login for a profile that refreshes must bring a refresh token.
    func checkRefreshToken(_ exchange: TokenExchange) throws {
        guard profile.needsRefreshToken, exchange.grant.refreshToken == nil else { return }
        throw TokenrunError.noRefreshToken(profile: profile.name, fix: ProviderQuirks.missingRefreshTokenFix(profile))
    }

    enum Step { case code, deviceStart, devicePoll, clientCredentials }

    func mapped(_ error: TokenEndpointError, step: Step) -> TokenrunError {
        let name = profile.name
        switch error {
        case .invalidGrant(let description) where step == .code:
            return .loginFailed(
                profile: name,
                reason: "the provider rejected the authorization code (invalid_grant"
                    + (description.map { ": \($0)" } ?? "")
                    + "); a code works once, for a few minutes, with the same redirect_uri and PKCE verifier",
                hint: "tokenrun login -p \(name)")
        case .invalidClient(let description):
            return .clientRejected(profile: name, clientID: client.clientID, detail: description)
        case .transient(let reason, _), .uncertain(let reason), .unreadable(let reason):
            // A login, not a refresh: there is no access token to have expired.
            return .loginUnavailable(profile: name, reason: reason)
        case .helperMissing(let path):
            return .networkHelperMissing(path: path)
        case .certificateRejected(let host, let problem, let trust):
            return .certificateRejected(host: host, problem: problem, trust: trust)
        case .caFileUnusable(let trust, let why):
            return .caFileUnusable(trust: trust, why: why)
        case .proxyAuthentication(let proxy, let why):
            return .proxyAuthenticationFailed(proxy: proxy, why: why)
        case .accessDenied:
            return .loginFailed(profile: name, reason: error.explanation, hint: "tokenrun login -p \(name)")
        default:
            let what =
                switch step {
                case .code: "redeeming the authorization code"
                case .deviceStart: "starting the device login"
                case .devicePoll: "the device login"
                case .clientCredentials: "the client credentials grant"
                }
            return .refreshRefused(profile: name, reason: "\(what) failed: \(error.explanation)")
        }
    }

    /// The record to store for a completed login.
    public static func credential(
        from exchange: TokenExchange, profile: Profile, grantType: GrantType, previous: Credential?
    ) -> Credential {
        let grant = exchange.grant
        var credential = Credential(
            profile: profile.name, refreshToken: grant.refreshToken, accessToken: grant.accessToken, idToken: grant.idToken,
            clientSecret: previous?.clientSecret, tokenType: grant.tokenType,
            scopes: grant.scope.map { $0.split(separator: " ").map(String.init) } ?? profile.oauth.scopes,
            expiresAt: exchange.receivedAt + (grant.expiresIn ?? TokenGrant.assumedLifetime), issuedAt: exchange.receivedAt,
            state: .connected, updatedAt: exchange.receivedAt)
        credential.clockSkew = exchange.clockSkew
        credential.obtainedBy = grantType.rawValue
        credential.requestedScopes = profile.oauth.scopes
        credential.grantedAt = exchange.receivedAt
        credential.refreshedAt = exchange.receivedAt
        if let issuer = CredentialIssuer(of: profile) { credential.bind(to: issuer) }
        return credential
    }
}
