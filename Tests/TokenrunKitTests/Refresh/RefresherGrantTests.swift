import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("refresher: client credentials, API keys, the invalidation callback, refreshedAt")
struct RefresherGrantTests {
    let world = VaultFixture()
    let clock = FakeClock(now: VaultFixture.now)
    let invalidations = Recorder<[String]>()
    static let now = VaultFixture.now

    func refresher(_ factory: TransportFactory) throws -> Refresher {
        var refresher = Refresher(vault: try world.vault(), transport: factory.make)
        refresher.clock = clock.clock
        refresher.sleep = clock.sleep
        refresher.monotonicMs = clock.monotonic
        let invalidations = invalidations
        refresher.onInvalidated = { profile, reason in invalidations.append([profile.name, reason]) }
        return refresher
    }

    func usable(_ profile: Profile, _ factory: TransportFactory) -> Result<(Credential, RefreshOutcome, warnings: [String]), any Error> {
        Result { try refresher(factory).usableCredential(for: profile, policy: RefreshPolicy(window: profile.refreshWindow)) }
    }

    static func tokenrunError<T>(_ result: Result<T, any Error>) -> TokenrunError? {
        if case .failure(let error) = result { return error as? TokenrunError }
        return nil
    }

    // MARK: client credentials

    @Test("client_credentials: an expired token is fetched again with grant_type=client_credentials, no refresh token needed")
    func clientCredentialsRefetch() throws {
        let profile = try world.profile("acme", oauth: "grant_type = \"client_credentials\"\nclient_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", refreshToken: nil, age: 4000, lifetime: 3600))
        let factory = TransportFactory(ScriptedTransport([.token("at-svc", expiresIn: 900)]))
        let (credential, outcome, _) = try usable(profile, factory).get()
        guard case .refreshed(rotated: false, _) = outcome else {
            Issue.record("expected a refresh, got \(outcome)")
            return
        }
        #expect(credential.accessToken?.value == "at-svc")
        let request = try #require(factory.transport.requests.first)
        #expect(factory.transport.requestCount == 1)
        #expect(request.form.map(\.0) == ["grant_type", "scope"])
        #expect(request.field("grant_type") == "client_credentials")
        #expect(request.field("scope") == "mail.read offline_access")
        #expect(request.field("refresh_token") == nil)
        #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "tokenrun-cli", secret: "s3cret"))
        let stored = try #require(try world.stored("acme"))
        #expect(stored.accessToken?.value == "at-svc")
        #expect(stored.expiresAt == Self.now + 900)
        #expect(stored.refreshToken == nil)
        #expect(stored.state == .connected)
        #expect(stored.refreshedAt == Self.now)
        #expect(invalidations.all.isEmpty)
    }

    @Test("client_credentials: a fresh token is used as stored, without a request")
    func clientCredentialsFresh() throws {
        let profile = try world.profile("acme", oauth: "grant_type = \"client_credentials\"\nclient_secret = \"s3cret\"")
        let stored = try world.store(VaultFixture.credential("acme", refreshToken: nil, age: 60, lifetime: 3600))
        let factory = TransportFactory(ScriptedTransport([]))
        let (credential, outcome, _) = try usable(profile, factory).get()
        #expect(outcome == .fresh)
        #expect(credential == stored)
        #expect(factory.callCount == 0)
    }

    @Test("client_credentials: a rejected client is clientRejected (78) and the credential does not turn invalid")
    func clientCredentialsRejected() throws {
        let profile = try world.profile("acme", oauth: "grant_type = \"client_credentials\"\nclient_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", refreshToken: nil, age: 4000, lifetime: 3600))
        let factory = TransportFactory(ScriptedTransport([.oauthError("invalid_client", status: 401)]))
        let error = try #require(Self.tokenrunError(usable(profile, factory)))
        #expect(error == .clientRejected(profile: "acme", clientID: "tokenrun-cli", detail: nil))
        #expect(try world.stored("acme")?.state == .connected)
        #expect(invalidations.all.isEmpty)
    }

    // MARK: API keys

    @Test("an api_key profile is returned as stored, without any request, even with no expiry and no refresh token")
    func apiKey() throws {
        let profile = try world.profile("acme", "kind = \"api_key\"\n[env]\nACME_KEY = \"{{access_token}}\"\n")
        var key = Credential(profile: "acme", accessToken: SecretString("sk-live-123"), updatedAt: Self.now - 86400 * 400)
        key.obtainedBy = "api_key"
        try world.store(key)
        let factory = TransportFactory(ScriptedTransport([]))
        let (credential, outcome, warnings) = try usable(profile, factory).get()
        #expect(outcome == .fresh)
        #expect(credential == key)
        #expect(warnings.isEmpty)
        #expect(factory.callCount == 0)
        #expect(try world.stored("acme") == key)
    }

    @Test("an api_key profile with a long-past expiry is still used as stored")
    func apiKeyPastExpiry() throws {
        let profile = try world.profile("acme", "kind = \"api_key\"\n")
        let key = try world.store(VaultFixture.credential("acme", accessToken: "sk-1", refreshToken: nil, age: 90000, lifetime: 60))
        let factory = TransportFactory(ScriptedTransport([]))
        let (credential, outcome, _) = try usable(profile, factory).get()
        #expect(outcome == .fresh)
        #expect(credential == key)
        #expect(factory.callCount == 0)
    }

    @Test("an api_key record without a key is not logged in (77)")
    func apiKeyMissing() throws {
        let profile = try world.profile("acme", "kind = \"api_key\"\n")
        try world.store(Credential(profile: "acme", updatedAt: Self.now))
        let factory = TransportFactory(ScriptedTransport([]))
        #expect(Self.tokenrunError(usable(profile, factory)) == .notLoggedIn(profile: "acme"))
        #expect(factory.callCount == 0)
    }

    // MARK: onInvalidated

    @Test("invalid_grant calls onInvalidated exactly once; the next, fail-fast call does not call it again")
    func invalidatedOnce() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", age: 4000, lifetime: 3600))
        let factory = TransportFactory(ScriptedTransport([.oauthError("invalid_grant", description: "Token has been revoked.")]))
        let first = Self.tokenrunError(usable(profile, factory))
        guard case .refreshTokenDead = first else {
            Issue.record("expected refreshTokenDead, got \(String(describing: first))")
            return
        }
        #expect(invalidations.all.count == 1)
        #expect(invalidations.all.first?.first == "acme")
        #expect(invalidations.all.first?.last?.contains("Token has been revoked.") == true)
        #expect(try world.stored("acme")?.state == .invalid)

        let second = Self.tokenrunError(usable(profile, factory))
        guard case .refreshTokenDead = second else {
            Issue.record("expected refreshTokenDead again, got \(String(describing: second))")
            return
        }
        #expect(factory.transport.requestCount == 1)
        #expect(invalidations.all.count == 1)
    }

    @Test("an expired credential with no refresh token stored turns invalid: onInvalidated once, no request")
    func invalidatedNoRefreshToken() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", refreshToken: nil, age: 4000, lifetime: 3600))
        let factory = TransportFactory(ScriptedTransport([]))
        #expect(Self.tokenrunError(usable(profile, factory))?.exitCode == 77)
        #expect(invalidations.all.count == 1)
        #expect(invalidations.all.first?.last?.contains("no refresh token") == true)
        #expect(factory.transport.requestCount == 0)
        _ = usable(profile, factory)
        #expect(invalidations.all.count == 1)
    }

    @Test(
        "failures that leave the refresh token alive never call onInvalidated",
        arguments: [
            ScriptedTransport.Step.status(503), .oauthError("invalid_client", status: 401), .oauthError("invalid_scope"),
            .fail(.timedOut("30 s")),
        ])
    func notInvalidated(_ step: ScriptedTransport.Step) throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", age: 4000, lifetime: 3600))
        var refresher = try refresher(TransportFactory(ScriptedTransport(always: step)))
        refresher.maxAttempts = 2
        _ = Result { try refresher.usableCredential(for: profile, policy: RefreshPolicy(window: 300)) }
        #expect(invalidations.all.isEmpty)
        #expect(try world.stored("acme")?.state != .invalid)
    }

    // MARK: refreshedAt

    @Test("a successful refresh records refreshedAt; a failed one leaves it as it was")
    func refreshedAt() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        var stored = VaultFixture.credential("acme", age: 4000, lifetime: 3600)
        stored.refreshedAt = Self.now - 4000
        stored.grantedAt = Self.now - 86400
        try world.store(stored)
        _ = try usable(profile, TransportFactory(ScriptedTransport([.token("at-new")]))).get()
        let after = try #require(try world.stored("acme"))
        #expect(after.refreshedAt == Self.now)
        #expect(after.grantedAt == Self.now - 86400)

        clock.advance(seconds: 7200)
        var refresher = try refresher(TransportFactory(ScriptedTransport(always: .status(503))))
        refresher.maxAttempts = 1
        _ = Result { try refresher.usableCredential(for: profile, policy: RefreshPolicy(window: 300)) }
        #expect(try world.stored("acme")?.refreshedAt == Self.now)
    }
}
