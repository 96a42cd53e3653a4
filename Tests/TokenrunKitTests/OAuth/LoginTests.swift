import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("login: client credentials, the stored record, redirect errors")
struct LoginTests {
    static let now: Int64 = 1_700_000_000
    static let tokenEndpoint = "https://auth.example.test/oauth/token"

    static func profile(scopes: [String] = ["api.read", "api.write"], grantType: GrantType? = nil) -> Profile {
        Profile.make("acme") {
            $0.tokenEndpoint = Self.tokenEndpoint
            $0.clientID = "svc"
            $0.scopes = scopes
            $0.grantType = grantType
        }
    }

    func login(_ transport: ScriptedTransport, profile: Profile = Self.profile(grantType: .clientCredentials)) -> Login {
        var login = Login(
            profile: profile, client: ClientCredentials(clientID: "svc", secret: SecretString("s3cret"), method: nil), transport: transport)
        login.clock = { Self.now }
        return login
    }

    // MARK: client credentials

    @Test("client credentials: grant_type=client_credentials and the scopes, with the client's Basic authentication")
    func clientCredentialsRequest() throws {
        let transport = ScriptedTransport([.token("at-svc")])
        let exchange = try login(transport).clientCredentials()
        #expect(exchange.grant.accessToken.value == "at-svc")
        #expect(exchange.receivedAt == Self.now)
        let request = try #require(transport.requests.first)
        #expect(request.url == Self.tokenEndpoint)
        #expect(request.form.map(\.0) == ["grant_type", "scope"])
        #expect(request.field("grant_type") == "client_credentials")
        #expect(request.field("scope") == "api.read api.write")
        #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "svc", secret: "s3cret"))
        #expect(transport.requestCount == 1)
    }

    @Test("client credentials without scopes sends no scope field")
    func clientCredentialsNoScopes() throws {
        let transport = ScriptedTransport([.token("at-svc")])
        _ = try login(transport, profile: Self.profile(scopes: [], grantType: .clientCredentials)).clientCredentials()
        #expect(transport.requests.first?.form.map(\.0) == ["grant_type"])
    }

    @Test("client credentials: a rejected client is clientRejected (78); a refusal is refreshRefused naming the grant")
    func clientCredentialsErrors() throws {
        let rejected = #expect(throws: TokenrunError.self) {
            try login(ScriptedTransport([.oauthError("invalid_client", status: 401)])).clientCredentials()
        }
        #expect(rejected == .clientRejected(profile: "acme", clientID: "svc", detail: nil))
        let refused = #expect(throws: TokenrunError.self) {
            try login(ScriptedTransport([.oauthError("unauthorized_client")])).clientCredentials()
        }
        guard case .refreshRefused(_, let reason)? = refused else {
            Issue.record("expected refreshRefused, got \(String(describing: refused))")
            return
        }
        #expect(reason.contains("client credentials"))
        #expect(reason.contains("unauthorized_client"))
    }

    @Test("client credentials: slow_down is one more transient answer (provider unavailable, 75)")
    func clientCredentialsSlowDown() throws {
        let error = #expect(throws: TokenrunError.self) {
            try login(ScriptedTransport([.oauthError("slow_down")])).clientCredentials()
        }
        #expect(error?.exitCode == 75)
    }

    @Test("client credentials do not need a refresh token: a token without one is accepted")
    func clientCredentialsNoRefreshNeeded() throws {
        #expect(!Self.profile(grantType: .clientCredentials).needsRefreshToken)
        let exchange = try login(ScriptedTransport([.token("at-svc")])).clientCredentials()
        #expect(exchange.grant.refreshToken == nil)
    }

    // MARK: the stored record

    static func exchange(scope: String?, expiresIn: Int64? = 1800, refreshToken: String? = "rt-new", skew: Int64? = 42) -> TokenExchange {
        TokenExchange(
            grant: TokenGrant(
                accessToken: SecretString("at-new"), tokenType: "Bearer", expiresIn: expiresIn,
                refreshToken: refreshToken.map(SecretString.init),
                scope: scope, idToken: SecretString("eyJ.id.tok")),
            clockSkew: skew, receivedAt: Self.now)
    }

    @Test("the record of a login holds the tokens, times, how it was obtained and what was asked for")
    func credentialRecord() {
        let credential = Login.credential(
            from: Self.exchange(scope: "api.read"), profile: Self.profile(), grantType: .authorizationCode, previous: nil)
        #expect(credential.profile == "acme")
        #expect(credential.accessToken?.value == "at-new")
        #expect(credential.refreshToken?.value == "rt-new")
        #expect(credential.idToken?.value == "eyJ.id.tok")
        #expect(credential.tokenType == "Bearer")
        #expect(credential.scopes == ["api.read"])
        #expect(credential.requestedScopes == ["api.read", "api.write"])
        #expect(credential.expiresAt == Self.now + 1800)
        #expect(credential.issuedAt == Self.now)
        #expect(credential.updatedAt == Self.now)
        #expect(credential.grantedAt == Self.now)
        #expect(credential.refreshedAt == Self.now)
        #expect(credential.obtainedBy == "authorization_code")
        #expect(credential.clockSkew == 42)
        #expect(credential.state == .connected)
        #expect(credential.lastError == nil)
        #expect(credential.clientSecret == nil)
    }

    @Test("without a scope in the response the requested scopes are recorded as granted")
    func credentialScopesFallBack() {
        let credential = Login.credential(from: Self.exchange(scope: nil), profile: Self.profile(), grantType: .deviceCode, previous: nil)
        #expect(credential.scopes == ["api.read", "api.write"])
        #expect(credential.obtainedBy == "device_code")
    }

    @Test("a new login keeps the client secret stored with the previous record, and nothing else of it")
    func credentialKeepsClientSecret() {
        var previous = VaultFixture.credential("acme", accessToken: "at-old", refreshToken: "rt-old", clientSecret: "vault-secret")
        previous.state = .invalid
        previous.lastError = "invalid_grant"
        let credential = Login.credential(
            from: Self.exchange(scope: nil, refreshToken: nil), profile: Self.profile(), grantType: .clientCredentials, previous: previous)
        #expect(credential.clientSecret?.value == "vault-secret")
        #expect(credential.refreshToken == nil)
        #expect(credential.accessToken?.value == "at-new")
        #expect(credential.state == .connected)
        #expect(credential.lastError == nil)
        #expect(credential.obtainedBy == "client_credentials")
    }

    @Test("without expires_in the token is assumed to live an hour")
    func credentialAssumedLifetime() {
        let credential = Login.credential(
            from: Self.exchange(scope: nil, expiresIn: nil), profile: Self.profile(), grantType: .authorizationCode, previous: nil)
        #expect(credential.expiresAt == Self.now + TokenGrant.assumedLifetime)
    }

    // MARK: errors on the redirect

    @Test(
        "an error on the redirect is a failed login (77) that names the code, says it plainly and hints at a new login",
        arguments: [
            ("access_denied", "consent was refused"), ("invalid_scope", "refused the requested scopes"),
            ("unauthorized_client", "may not use the authorization code flow"), ("temporarily_unavailable", "temporarily_unavailable"),
        ])
    func redirectError(_ code: String, _ says: String) {
        let error = Login.redirectError(code: code, description: "The user cancelled", profile: "acme")
        guard case .loginFailed(let profile, let reason, let hint) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(reason.contains(code))
        #expect(reason.contains(says))
        #expect(reason.contains("The user cancelled"))
        #expect(hint == "tokenrun login -p acme")
        #expect(error.exitCode == 77)
    }

    @Test("a redirect error without a description, or with control characters in the code, stays one clean line")
    func redirectErrorCleaned() {
        guard case .loginFailed(_, let plain, _) = Login.redirectError(code: "access_denied", description: nil, profile: "acme") else {
            Issue.record("expected loginFailed")
            return
        }
        #expect(!plain.contains("provider says"))
        guard case .loginFailed(_, let odd, _) = Login.redirectError(code: "bad\u{1b}[2J\ncode", description: nil, profile: "acme")
        else {
            Issue.record("expected loginFailed")
            return
        }
        #expect(!odd.contains("\u{1b}"))
        #expect(!odd.contains("\n"))
        #expect(odd.contains("bad [2J code"))
    }
}
