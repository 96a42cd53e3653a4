import Testing
@testable import TokenrunOAuth
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

@Suite("refresher")
struct RefresherTests {
    let world = VaultFixture()
    let clock = FakeClock(now: VaultFixture.now)
    let attempts = Recorder<RefreshAttempt>()
    static let now = VaultFixture.now

    /// A refresher over the fixture's vault, with injected clock, sleep and transport.
    func refresher(_ factory: TransportFactory, environment: [String: String] = [:], maxAttempts: Int = 4) throws -> Refresher {
        var refresher = Refresher(vault: try world.vault(), transport: factory.make)
        refresher.clock = clock.clock
        refresher.sleep = clock.sleep
        refresher.monotonicMs = clock.monotonic
        refresher.environment = environment
        refresher.maxAttempts = maxAttempts
        let attempts = attempts
        refresher.onAttempt = { attempts.append($0) }
        return refresher
    }

    /// Loads profile "acme", stores `credential`, and runs one `usableCredential` through `transport`.
    func run(
        _ credential: Credential, _ transport: ScriptedTransport, environment: [String: String] = [:], maxAttempts: Int = 4,
        minTTL: Int64? = nil, oauth: String = "client_secret = \"s3cret\""
    ) throws -> (TransportFactory, Result<(Credential, RefreshOutcome, warnings: [String]), any Error>) {
        let profile = try world.profile("acme", oauth: oauth)
        try world.store(credential)
        let factory = TransportFactory(transport)
        let refresher = try refresher(factory, environment: environment, maxAttempts: maxAttempts)
        let policy = RefreshPolicy(window: profile.refreshWindow, minTTL: minTTL)
        return (factory, Result { try refresher.usableCredential(for: profile, policy: policy) })
    }

    static func tokenrunError<T>(_ result: Result<T, any Error>) -> TokenrunError? {
        if case .failure(let error) = result { return error as? TokenrunError }
        return nil
    }

    static let expired = VaultFixture.credential("acme", age: 4000, lifetime: 3600)

    // MARK: warm path

    @Test("a fresh token is returned as stored, without even building a transport")
    func freshToken() throws {
        let stored = VaultFixture.credential("acme", age: 60, lifetime: 3600)
        let (factory, result) = try run(stored, ScriptedTransport([]))
        let (credential, outcome, warnings) = try result.get()
        #expect(outcome == .fresh)
        #expect(credential == stored)
        #expect(warnings.isEmpty)
        #expect(factory.callCount == 0)
        #expect(factory.transport.requestCount == 0)
        #expect(attempts.all.isEmpty)
        #expect(try world.stored("acme") == stored)
    }

    @Test("a profile without a stored credential is not logged in (77)")
    func notLoggedIn() throws {
        let profile = try world.profile("acme")
        try world.store(VaultFixture.credential("other"))
        let factory = TransportFactory(ScriptedTransport([]))
        let error = #expect(throws: TokenrunError.self) {
            try refresher(factory).usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        }
        #expect(error == .notLoggedIn(profile: "acme"))
        #expect(error?.exitCode == 77)
        #expect(factory.callCount == 0)
    }

    // MARK: refreshing

    @Test("an expired token is refreshed with one request; the new tokens and times are stored")
    func expiredRefreshes() throws {
        let transport = ScriptedTransport([.token("at-new", expiresIn: 1800, refreshToken: "rt-new")])
        let (factory, result) = try run(Self.expired, transport)
        let (credential, outcome, warnings) = try result.get()
        guard case .refreshed(rotated: true, _) = outcome else {
            Issue.record("expected a rotated refresh, got \(outcome)")
            return
        }
        #expect(warnings.isEmpty)
        #expect(factory.callCount == 1)
        #expect(transport.requestCount == 1)
        #expect(transport.requests.first?.field("refresh_token") == "rt-old")
        #expect(transport.requests.first?.url == VaultFixture.tokenEndpoint)

        let stored = try #require(try world.stored("acme"))
        #expect(stored == credential)
        #expect(stored.accessToken?.value == "at-new")
        #expect(stored.refreshToken?.value == "rt-new")
        #expect(stored.issuedAt == Self.now)
        #expect(stored.expiresAt == Self.now + 1800)
        #expect(stored.updatedAt == Self.now)
        #expect(stored.state == .connected)
        #expect(stored.lastError == nil)
        #expect(stored.tokenType == "Bearer")
    }

    @Test(
        "without a new refresh token (or with the same one) the stored refresh token is kept and rotated is false",
        arguments: [nil, "rt-old"] as [String?])
    func noRotation(_ returned: String?) throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.token("at-new", refreshToken: returned)]))
        guard case .refreshed(rotated: false, _) = try result.get().1 else {
            Issue.record("expected an unrotated refresh")
            return
        }
        #expect(try world.stored("acme")?.refreshToken?.value == "rt-old")
        #expect(attempts.all.map(\.rotated) == [false])
    }

    @Test(
        "TOKENRUN_HTTP_TIMEOUT sets the total time of a token request (1 s to 5 min); the connect timeout never exceeds it",
        arguments: [
            (nil, 30.0, 10.0), ("2", 2, 2), ("20s", 20, 10), ("1m", 60, 10), ("5m", 300, 10), ("0", 30, 10), ("6m", 30, 10),
            ("soon", 30, 10), ("", 30, 10),
        ] as [(String?, Double, Double)])
    func timeoutVariable(_ value: String?, _ total: Double, _ connect: Double) throws {
        let transport = ScriptedTransport([.token("at-new")])
        let environment = value.map { ["TOKENRUN_HTTP_TIMEOUT": $0] } ?? [:]
        _ = try run(Self.expired, transport, environment: environment).1.get()
        let limits = try #require(transport.requests.first?.limits)
        #expect(limits.totalTimeout == total)
        #expect(limits.connectTimeout == connect)
        #expect(limits.maxResponseBytes == 256 << 10)
    }

    @Test("without expires_in the token is assumed to live an hour; a returned scope replaces the stored scopes")
    func assumedLifetime() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.json(200, #"{"access_token":"at-new","scope":"a b c"}"#)]))
        _ = try result.get()
        let stored = try #require(try world.stored("acme"))
        #expect(stored.expiresAt == Self.now + TokenGrant.assumedLifetime)
        #expect(stored.scopes == ["a", "b", "c"])
    }

    @Test("--min-ttl longer than the remaining life forces a refresh of a fresh token")
    func minTTLForcesRefresh() throws {
        let stored = VaultFixture.credential("acme", age: 600, lifetime: 3600)
        let transport = ScriptedTransport([.token("at-new")])
        let (_, result) = try run(stored, transport, minTTL: 3500)
        _ = try result.get()
        #expect(transport.requestCount == 1)
    }

    // MARK: dead refresh tokens

    @Test("invalid_grant marks the credential invalid (77) and later calls fail without a request")
    func invalidGrant() throws {
        let transport = ScriptedTransport([.oauthError("invalid_grant", description: "Token has been expired or revoked.")])
        let (factory, result) = try run(Self.expired, transport)
        let error = try #require(Self.tokenrunError(result))
        guard case .refreshTokenDead(let profile, let reason) = error else {
            Issue.record("expected refreshTokenDead, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(reason.contains("invalid_grant"))
        #expect(reason.contains("Token has been expired or revoked."))
        #expect(error.exitCode == 77)
        #expect(error.hints.contains("tokenrun login -p acme"))
        #expect(transport.requestCount == 1, "invalid_grant is never retried")
        #expect(clock.sleeps.isEmpty)

        let stored = try #require(try world.stored("acme"))
        #expect(stored.state == .invalid)
        #expect(stored.lastError?.contains("invalid_grant") == true)
        #expect(stored.refreshToken?.value == "rt-old")

        let profileValue = try world.profiles.load("acme")
        let again = #expect(throws: TokenrunError.self) {
            try refresher(factory).usableCredential(for: profileValue, policy: RefreshPolicy(window: 300))
        }
        guard case .refreshTokenDead? = again else {
            Issue.record("expected refreshTokenDead again, got \(String(describing: again))")
            return
        }
        #expect(again?.exitCode == 77)
        #expect(transport.requestCount == 1)
        #expect(factory.callCount == 1)
    }

    @Test("an invalid credential fails fast even while its access token is still valid")
    func invalidFailsFast() throws {
        let stored = VaultFixture.credential("acme", age: 10, lifetime: 3600, state: .invalid)
        let (factory, result) = try run(stored, ScriptedTransport([]))
        #expect(Self.tokenrunError(result)?.exitCode == 77)
        #expect(factory.callCount == 0)
    }

    @Test("expired_token is also a dead refresh token")
    func expiredToken() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.oauthError("expired_token")]))
        guard case .refreshTokenDead? = Self.tokenrunError(result) else {
            Issue.record("expected refreshTokenDead, got \(result)")
            return
        }
        #expect(try world.stored("acme")?.state == .invalid)
    }

    @Test("regression: the failing answer's Date, 15 minutes ahead, puts a clock hint on invalid_grant")
    func invalidGrantWithSkew() throws {
        // Self.now is 22:13:20 GMT; the server says 22:28:20.
        let answer = ScriptedTransport.Step.json(400, #"{"error":"invalid_grant"}"#, headers: [("Date", "Tue, 14 Nov 2023 22:28:20 GMT")])
        let (_, result) = try run(Self.expired, ScriptedTransport([answer]))
        guard case .refreshTokenDead(_, let reason)? = Self.tokenrunError(result) else {
            Issue.record("expected refreshTokenDead")
            return
        }
        #expect(reason.contains("the local clock is 900 s behind"), "\(reason)")
        #expect(reason.contains("timedatectl set-ntp true"))
        #expect(try world.stored("acme")?.clockSkew == 900)
    }

    @Test("regression: a skew stored from an earlier answer gives no clock hint when the failing answer has none")
    func invalidGrantWithStaleSkew() throws {
        var stored = Self.expired
        stored.clockSkew = -900
        let (_, result) = try run(stored, ScriptedTransport([.oauthError("invalid_grant")]))
        guard case .refreshTokenDead(_, let reason)? = Self.tokenrunError(result) else {
            Issue.record("expected refreshTokenDead")
            return
        }
        #expect(!reason.contains("clock"), "\(reason)")
    }

    @Test("regression: a 200 with a new refresh token and no access_token stores the new refresh token, state expired")
    func rotationKeptFromBadAnswer() throws {
        let answer = ScriptedTransport.Step.json(200, #"{"refresh_token":"rt-rotated","token_type":"Bearer","expires_in":3600}"#)
        let (_, result) = try run(Self.expired, ScriptedTransport([answer]))
        guard case .providerUnavailable(_, let reason, let attempts)? = Self.tokenrunError(result) else {
            Issue.record("expected providerUnavailable, got \(result)")
            return
        }
        #expect(reason.contains("access_token"))
        #expect(attempts == 1)
        let stored = try #require(try world.stored("acme"))
        #expect(stored.refreshToken?.value == "rt-rotated")
        #expect(stored.state == .expired)
        #expect(stored.lastError?.contains("access_token") == true)
        #expect(stored.lastError?.contains("HTTP 200") == true)
        #expect(self.attempts.all.first?.rotated == true)
        #expect(self.attempts.all.first?.httpStatus == 200)
    }

    @Test("an invalid_scope refusal names the profile's scopes")
    func invalidScopeNamesScopes() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.oauthError("invalid_scope")]))
        guard case .refreshRefused(_, let reason)? = Self.tokenrunError(result) else {
            Issue.record("expected refreshRefused, got \(result)")
            return
        }
        #expect(reason.contains("the scopes asked for: "), "\(reason)")
    }

    @Test("no stored refresh token: invalid (77) without any request")
    func noRefreshToken() throws {
        let stored = VaultFixture.credential("acme", refreshToken: nil, age: 4000, lifetime: 3600)
        let (factory, result) = try run(stored, ScriptedTransport([]))
        let error = try #require(Self.tokenrunError(result))
        guard case .refreshTokenDead = error else {
            Issue.record("expected refreshTokenDead, got \(error)")
            return
        }
        #expect(error.exitCode == 77)
        #expect(factory.callCount == 0)
        #expect(try world.stored("acme")?.state == .invalid)
    }

    // MARK: transient failures

    @Test("a 503 with Retry-After: 2 then success: two requests and one injected 2 s sleep")
    func transientThenSuccess() throws {
        let transport = ScriptedTransport([.status(503, retryAfter: "2"), .token("at-new", expiresIn: 3600)])
        let (_, result) = try run(Self.expired, transport)
        let (credential, outcome, warnings) = try result.get()
        guard case .refreshed = outcome else {
            Issue.record("expected refreshed, got \(outcome)")
            return
        }
        #expect(warnings.isEmpty)
        #expect(transport.requestCount == 2)
        #expect(clock.sleeps == [2])
        #expect(credential.accessToken?.value == "at-new")
        // The clock moved on by the sleep; issued_at is the arrival time.
        #expect(credential.issuedAt == Self.now + 2)
        #expect(credential.expiresAt == Self.now + 2 + 3600)
        let seen = attempts.all
        #expect(seen.map(\.outcome) == ["failed", "ok"])
        #expect(seen.map(\.errorClass) == ["transient", nil])
        #expect(seen.map(\.attempts) == [1, 2])
    }

    @Test("transient failures without Retry-After back off exponentially, within bounds")
    func backoffWithoutRetryAfter() throws {
        let transport = ScriptedTransport([.fail(.connectFailed("refused")), .status(503), .status(502), .token("at")])
        let (_, result) = try run(Self.expired, transport)
        _ = try result.get()
        let sleeps = clock.sleeps
        #expect(sleeps.count == 3)
        for (index, base) in [0.5, 1.0, 2.0].enumerated() where index < sleeps.count {
            #expect(sleeps[index] >= base * 0.75 && sleeps[index] <= base * 1.25, "sleep \(index + 1): \(sleeps[index])")
        }
    }

    @Test("regression: no answer (timeout, dropped connection) is never retried: the server may have rotated the token")
    func uncertainNotRetried() throws {
        for failure in [TransportError.timedOut("30 s"), .failed("connection closed")] {
            let transport = ScriptedTransport([.fail(failure), .token("at")])
            let (_, result) = try run(Self.expired, transport)
            #expect(throws: TokenrunError.self) { try result.get() }
            #expect(transport.requests.count == 1)
        }
    }

    @Test("transient failures while the access token is still valid: stale but valid, one warning, still connected")
    func transientStaleButValid() throws {
        let stored = VaultFixture.credential("acme", age: 3500, lifetime: 3600)  // 100 s left, inside the 5 min window
        let transport = ScriptedTransport(always: .status(503))
        let (_, result) = try run(stored, transport)
        let (credential, outcome, warnings) = try result.get()
        guard case .staleButValid(let reason) = outcome else {
            Issue.record("expected staleButValid, got \(outcome)")
            return
        }
        #expect(reason.contains("503"))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("acme") == true)
        #expect(warnings.first?.contains("current access token") == true)
        #expect(credential.accessToken?.value == "at-old")
        #expect(transport.requestCount == 4)
        #expect(clock.sleeps.count == 3)
        let after = try #require(try world.stored("acme"))
        #expect(after.state == .connected)
        #expect(after.accessToken?.value == "at-old")
        #expect(after.expiresAt == stored.expiresAt)
        #expect(after.refreshToken?.value == "rt-old")
    }

    @Test("transient failures with the token expired: state expired, provider unavailable (75), bounded attempts")
    func transientExpired() throws {
        let transport = ScriptedTransport(always: .fail(.connectFailed("connection refused")))
        let (_, result) = try run(Self.expired, transport, maxAttempts: 3)
        let error = try #require(Self.tokenrunError(result))
        guard case .providerUnavailable(let profile, let reason, let count) = error else {
            Issue.record("expected providerUnavailable, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(reason.contains("connection refused"))
        #expect(count == 3)
        #expect(error.exitCode == 75)
        #expect(transport.requestCount == 3)
        #expect(clock.sleeps.count == 2)
        let stored = try #require(try world.stored("acme"))
        #expect(stored.state == .expired)
        #expect(stored.lastError?.contains("connection refused") == true)
        #expect(stored.refreshToken?.value == "rt-old")
        #expect(attempts.all.map(\.errorClass) == ["transient", "transient", "transient"])
    }

    @Test("Retry-After is capped at 10 s and the retry budget stops the attempts")
    func retryBudget() throws {
        let transport = ScriptedTransport(always: .status(429, retryAfter: "3600"))
        let (_, result) = try run(Self.expired, transport)
        #expect(Self.tokenrunError(result)?.exitCode == 75)
        // 10 s after the first attempt; a second 10 s sleep would pass the 12 s budget.
        #expect(clock.sleeps == [10])
        #expect(transport.requestCount == 2)
    }

    @Test("an HTML answer (captive portal) ends as provider unavailable, saying what came back")
    func htmlAnswer() throws {
        let page = HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>Portal login</html>".utf8))
        let (_, result) = try run(Self.expired, ScriptedTransport(always: .respond(page)), maxAttempts: 2)
        guard case .providerUnavailable(_, let reason, _)? = Self.tokenrunError(result) else {
            Issue.record("expected providerUnavailable, got \(result)")
            return
        }
        #expect(reason.contains("HTML"))
        #expect(reason.contains("Portal login"))
        #expect(try world.stored("acme")?.state == .expired)
    }

    @Test("an expired credential recovers on the next successful refresh")
    func expiredRecovers() throws {
        var stored = Self.expired
        stored.state = .expired
        stored.lastError = "the token endpoint answered HTTP 503"
        let (_, result) = try run(stored, ScriptedTransport([.token("at-new")]))
        _ = try result.get()
        let after = try #require(try world.stored("acme"))
        #expect(after.state == .connected)
        #expect(after.lastError == nil)
    }

    // MARK: configuration errors

    @Test("invalid_client: client rejected (78) naming the client id, not retried, state not invalid")
    func invalidClient() throws {
        let transport = ScriptedTransport([.oauthError("invalid_client", status: 401, description: "Unknown client")])
        let (_, result) = try run(Self.expired, transport)
        let error = try #require(Self.tokenrunError(result))
        #expect(error == .clientRejected(profile: "acme", clientID: "tokenrun-cli", detail: "Unknown client"))
        #expect(error.exitCode == 78)
        #expect(error.summary.contains("tokenrun-cli"))
        #expect(transport.requestCount == 1)
        let stored = try #require(try world.stored("acme"))
        #expect(stored.state != .invalid)
        #expect(stored.lastError?.contains("invalid_client") == true)
    }

    @Test(
        "other refusals are configuration errors (78), not retried, state not invalid",
        arguments: ["invalid_scope", "unauthorized_client", "unsupported_grant_type", "access_denied"])
    func refused(_ code: String) throws {
        let transport = ScriptedTransport([.oauthError(code)])
        let (_, result) = try run(Self.expired, transport)
        let error = try #require(Self.tokenrunError(result))
        guard case .refreshRefused(let profile, let reason) = error else {
            Issue.record("expected refreshRefused, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(reason.contains(code))
        #expect(error.exitCode == 78)
        #expect(transport.requestCount == 1)
        #expect(try world.stored("acme")?.state != .invalid)
        #expect(attempts.all.map(\.errorClass) == [code])
    }

    @Test("client_secret_post without any secret is a profile error (78) before any request")
    func postWithoutSecret() throws {
        let (factory, result) = try run(Self.expired, ScriptedTransport([]), oauth: "auth_method = \"client_secret_post\"")
        let error = try #require(Self.tokenrunError(result))
        guard case .profileIncomplete(let profile, _) = error else {
            Issue.record("expected profileIncomplete, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(error.exitCode == 78)
        #expect(factory.transport.requestCount == 0)
        #expect(try world.stored("acme")?.state == .connected)
    }

    // MARK: clock skew

    @Test(
        "the token endpoint's Date header: a skew over 60 s warns about the clock and is stored",
        arguments: [
            (1_700_000_400, "Tue, 14 Nov 2023 22:20:00 GMT", "behind"),
            (1_699_999_880, "Tue, 14 Nov 2023 22:11:20 GMT", "ahead of"),
        ] as [(Int64, String, String)])
    func clockSkewWarning(_ serverTime: Int64, _ date: String, _ direction: String) throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.token("at-new", headers: [("Date", date)])]))
        let (_, outcome, warnings) = try result.get()
        guard case .refreshed = outcome else {
            Issue.record("expected refreshed")
            return
        }
        let skew = serverTime - Self.now
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("clock") == true)
        #expect(warnings.first?.contains("\(abs(skew)) s \(direction)") == true)
        #expect(try world.stored("acme")?.clockSkew == skew)
    }

    @Test("a skew of 60 s or less gives no warning")
    func smallSkew() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.token("at-new", headers: [("Date", "Tue, 14 Nov 2023 22:14:20 GMT")])]))
        #expect(try result.get().warnings.isEmpty)
        #expect(try world.stored("acme")?.clockSkew == 60)
    }

    // MARK: audit callback

    @Test("onAttempt sees each request's outcome, error class and rotation")
    func onAttempt() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.token("at-new", refreshToken: "rt-new")]))
        _ = try result.get()
        let seen = attempts.all
        #expect(seen.count == 1)
        #expect(seen.first?.profile == "acme")
        #expect(seen.first?.outcome == "ok")
        #expect(seen.first?.errorClass == nil)
        #expect(seen.first?.rotated == true)
        #expect(seen.first?.attempts == 1)
    }

    @Test("onAttempt sees a failed attempt with its error class")
    func onAttemptFailure() throws {
        let (_, result) = try run(Self.expired, ScriptedTransport([.oauthError("invalid_grant")]))
        #expect(Self.tokenrunError(result) != nil)
        #expect(
            attempts.all
                == [
                    RefreshAttempt(
                        profile: "acme", outcome: "failed", errorClass: "invalid_grant", latencyMs: 0, rotated: false, attempts: 1,
                        httpStatus: 400)
                ])
    }

    @Test("regression: onAttempt (the audit trail) runs after the vault write, with the rotated token stored and the lock free")
    func onAttemptAfterVaultWrite() throws {
        let profile = try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(Self.expired)
        var refresher = try refresher(TransportFactory(ScriptedTransport([.token("at-new", refreshToken: "rt-new")])))
        let lockPath = FileVaultStorage(path: world.paths.vault).lockPath
        let vault = try world.vault()
        let seen = Recorder<String>()
        refresher.onAttempt = { _ in
            // Inside the refresh's locked step this fails (and reading the vault would block for ever).
            // It is tried for a second: a child another test spawns at this moment holds a copy of
            // the lock's descriptor between its fork and its exec, which is not the refresh's doing.
            let fd = open(lockPath, O_RDWR | O_CLOEXEC)
            defer { close(fd) }
            var locked = flock(fd, LOCK_EX | LOCK_NB) == 0
            for _ in 0..<100 where !locked {
                usleep(10_000)
                locked = flock(fd, LOCK_EX | LOCK_NB) == 0
            }
            guard locked else { return seen.append("the vault is still locked") }
            flock(fd, LOCK_UN)
            seen.append((try? vault.credential(for: "acme"))??.refreshToken?.value ?? "no refresh token")
        }
        _ = try refresher.usableCredential(for: profile, policy: RefreshPolicy(window: 300))
        #expect(seen.all == ["rt-new"])
    }

    // MARK: client secret precedence

    struct SecretCase: Sendable, CustomTestStringConvertible {
        let name: String
        let profileSecret: String?
        let vaultSecret: String?
        let environment: [String: String]
        let expected: String?
        var testDescription: String { name }
    }

    @Test(
        "the client secret comes from client_secret_env, else the profile, else the vault",
        arguments: [
            SecretCase(
                name: "env var beats profile and vault", profileSecret: "profile-secret", vaultSecret: "vault-secret",
                environment: ["ACME_CLIENT_SECRET": "env-secret"], expected: "env-secret"),
            SecretCase(
                name: "unset env var: the profile's", profileSecret: "profile-secret", vaultSecret: "vault-secret", environment: [:],
                expected: "profile-secret"),
            SecretCase(
                name: "empty env var: the profile's", profileSecret: "profile-secret", vaultSecret: "vault-secret",
                environment: ["ACME_CLIENT_SECRET": ""], expected: "profile-secret"),
            SecretCase(
                name: "no env var, no profile secret: the vault's", profileSecret: nil, vaultSecret: "vault-secret", environment: [:],
                expected: "vault-secret"),
            SecretCase(
                name: "env var beats the vault", profileSecret: nil, vaultSecret: "vault-secret",
                environment: ["ACME_CLIENT_SECRET": "env-secret"], expected: "env-secret"),
            SecretCase(name: "no secret anywhere: public client", profileSecret: nil, vaultSecret: nil, environment: [:], expected: nil),
        ])
    func clientSecretPrecedence(_ c: SecretCase) throws {
        var oauth = "client_secret_env = \"ACME_CLIENT_SECRET\""
        if let secret = c.profileSecret { oauth += "\nclient_secret = \"\(secret)\"" }
        var stored = Self.expired
        stored.clientSecret = c.vaultSecret.map(SecretString.init)
        let transport = ScriptedTransport([.token("at-new")])
        let (_, result) = try run(stored, transport, environment: c.environment, oauth: oauth)
        _ = try result.get()
        let request = try #require(transport.requests.first)
        if let expected = c.expected {
            #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "tokenrun-cli", secret: expected))
            #expect(request.field("client_id") == nil)
        } else {
            #expect(request.header("Authorization") == nil)
            #expect(request.field("client_id") == "tokenrun-cli")
        }
        #expect(request.field("client_secret") == nil)
        // The vault's copy of the secret is kept as it was.
        #expect(try world.stored("acme")?.clientSecret == stored.clientSecret)
    }

    @Test("client_secret_post sends the chosen secret in the body")
    func clientSecretPostPrecedence() throws {
        let transport = ScriptedTransport([.token("at-new")])
        let (_, result) = try run(
            Self.expired, transport, environment: ["ACME_CLIENT_SECRET": "env-secret"],
            oauth: "auth_method = \"client_secret_post\"\nclient_secret_env = \"ACME_CLIENT_SECRET\"\nclient_secret = \"profile-secret\"")
        _ = try result.get()
        let request = try #require(transport.requests.first)
        #expect(request.field("client_secret") == "env-secret")
        #expect(request.field("client_id") == "tokenrun-cli")
        #expect(request.header("Authorization") == nil)
    }
}
