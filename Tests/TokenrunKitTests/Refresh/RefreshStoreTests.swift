import Testing
@testable import TokenrunOAuth
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

/// What a refresh writes when the record changed while its request was out.
@Suite("refresher: writing over a record changed during the request")
struct RefreshStoreTests {
    let world = VaultFixture()
    let clock = FakeClock(now: VaultFixture.now)

    /// A transport that changes the vault (as another command would) before answering.
    final class MeddlingTransport: HTTPTransport, @unchecked Sendable {
        let inner: ScriptedTransport
        let meddle: @Sendable () -> Void
        init(_ inner: ScriptedTransport, meddle: @escaping @Sendable () -> Void) {
            self.inner = inner
            self.meddle = meddle
        }
        func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
            meddle()
            return try inner.post(request, limits: limits)
        }
    }

    func refresh(meddle: @escaping @Sendable (UnlockedVault) -> Void) throws -> Credential? {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(VaultFixture.credential("acme", age: 4000, lifetime: 3600))
        let vault = try world.vault()
        let transport = MeddlingTransport(ScriptedTransport([.token("at-new", refreshToken: "rt-new")])) { meddle(vault) }
        var refresher = Refresher(vault: vault, transport: { transport })
        refresher.clock = clock.clock
        refresher.sleep = clock.sleep
        refresher.monotonicMs = clock.monotonic
        _ = try refresher.usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        return try world.stored("acme")
    }

    @Test("regression: the access token dropped meanwhile (git-credential erase) does not make the rotated refresh token be lost")
    func sameGrantIsWrittenOver() throws {
        let stored = try refresh { vault in
            _ = try? vault.updateCredential(for: "acme") { current in
                var dropped = current
                dropped?.accessToken = nil
                return dropped
            }
        }
        #expect(stored?.refreshToken?.value == "rt-new")
        #expect(stored?.accessToken?.value == "at-new")
    }

    @Test("a new grant stored meanwhile (a login or an import) stands")
    func newGrantStands() throws {
        let stored = try refresh { vault in
            _ = try? vault.updateCredential(for: "acme") { current in
                var replaced = current
                replaced?.refreshToken = SecretString("rt-from-login")
                return replaced
            }
        }
        #expect(stored?.refreshToken?.value == "rt-from-login")
    }
}
