import Testing
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("issuer binding")
struct IssuerBindingTests {
    let world = VaultFixture()
    let clock = FakeClock(now: VaultFixture.now)

    func refresher(_ factory: TransportFactory) throws -> Refresher {
        var refresher = Refresher(vault: try world.vault(), transport: factory.make)
        refresher.clock = clock.clock
        refresher.sleep = clock.sleep
        refresher.monotonicMs = clock.monotonic
        return refresher
    }

    static let expired = VaultFixture.credential("acme", age: 4000, lifetime: 3600)

    @Test("a record written before binding is bound to the profile's endpoint and client by its next successful refresh")
    func unboundRecordIsBoundOnRefresh() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        #expect(Self.expired.issuer == nil)
        try world.store(Self.expired)
        let factory = TransportFactory(ScriptedTransport([.token("at-new", refreshToken: "rt-new")]))
        _ = try refresher(factory).usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        let stored = try #require(try world.stored("acme"))
        #expect(stored.issuer == CredentialIssuer(tokenEndpoint: VaultFixture.tokenEndpoint, clientID: "tokenrun-cli"))
    }

    @Test("a failed refresh does not bind an unbound record")
    func failedRefreshDoesNotBind() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(Self.expired)
        let factory = TransportFactory(ScriptedTransport([.oauthError("invalid_grant")]))
        #expect(throws: TokenrunError.self) {
            try refresher(factory).usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        }
        #expect(try world.stored("acme")?.issuer == nil)
    }

    @Test(
        "a record bound to another endpoint or client is refused (78) before any request, fresh or expired",
        arguments: [
            CredentialIssuer(tokenEndpoint: "https://elsewhere.example/token", clientID: "tokenrun-cli"),
            CredentialIssuer(tokenEndpoint: VaultFixture.tokenEndpoint, clientID: "another-client"),
        ], [4000, 60] as [Int64])
    func mismatchRefused(_ bound: CredentialIssuer, age: Int64) throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        var credential = VaultFixture.credential("acme", age: age, lifetime: 3600)
        credential.bind(to: bound)
        try world.store(credential)
        let factory = TransportFactory(ScriptedTransport([]))
        let error = #expect(throws: TokenrunError.self) {
            try refresher(factory).usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        }
        #expect(error?.exitCode == 78)
        #expect(error?.summary.contains(bound.tokenEndpoint) == true)
        #expect(error?.summary.contains(VaultFixture.tokenEndpoint) == true)
        #expect(error?.hints.contains("if the change is intended, log in to the new endpoint: tokenrun login -p acme") == true)
        #expect(factory.callCount == 0)
        #expect(try world.stored("acme") == credential)
    }

    @Test("a record bound to the profile's own endpoint and client refreshes as usual")
    func matchingBindingRefreshes() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        var credential = Self.expired
        credential.bind(to: try #require(IssuerBinding.issuer(of: profile)))
        try world.store(credential)
        let transport = ScriptedTransport([.token("at-new", refreshToken: "rt-new")])
        let (updated, _, _) = try refresher(TransportFactory(transport)).usableCredential(
            for: profile, policy: RefreshPolicy(window: 300))
        #expect(updated.accessToken?.value == "at-new")
        #expect(transport.requestCount == 1)
    }
}
