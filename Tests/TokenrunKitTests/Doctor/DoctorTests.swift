import Testing
@testable import TokenrunDoctor
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSodium
@testable import TokenrunSupport
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

@Suite("doctor")
struct DoctorTests {
    let world = VaultFixture()
    static let now = VaultFixture.now
    static let endpoint = VaultFixture.tokenEndpoint

    /// What a token endpoint answers to the probe, with its clock `skew` seconds off ours (no Date header when nil).
    static func probeAnswer(skew: Int64? = 0) -> ScriptedTransport.Step {
        .json(400, #"{"error":"unsupported_grant_type"}"#, headers: skew.map { [("Date", httpDate(now + $0))] } ?? [])
    }

    static func httpDate(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A connected credential for acme covering the profile's scopes, granted a day ago.
    static func healthy(_ profile: String = "acme") -> Credential {
        var credential = VaultFixture.credential(profile, age: 60)
        credential.scopes = ["mail.read", "offline_access"]
        credential.grantedAt = now - 86400
        credential.refreshedAt = now - 60
        return credential
    }

    var environment: [String: String] {
        var environment = world.environment
        environment["XDG_RUNTIME_DIR"] = world.dir.path + "/runtime"
        return environment
    }

    func run(
        _ transport: ScriptedTransport = ScriptedTransport([]), requested: [String] = [], offline: Bool = false,
        hasTerminal: Bool = false, environment extra: [String: String] = [:]
    ) -> (checks: [DoctorCheck], factory: TransportFactory) {
        let factory = TransportFactory(transport)
        var env = environment
        for (key, value) in extra { env[key] = value }
        var doctor = Doctor(environment: env, profiles: ProfileStore(environment: env, builtins: [:]), transport: factory.make)
        doctor.clock = { Self.now }
        doctor.requested = requested
        doctor.offline = offline
        doctor.hasTerminal = hasTerminal
        return (doctor.run(), factory)
    }

    /// Profile acme with other scopes than the fixture's.
    func acme(scopes: String, oauth: String = "") throws {
        try world.profile(
            "acme",
            """
            [oauth]
            token_endpoint = "\(Self.endpoint)"
            client_id = "tokenrun-cli"
            scopes = \(scopes)
            \(oauth)
            """)
    }

    static func named(_ checks: [DoctorCheck], _ name: String) -> DoctorCheck? {
        checks.first { $0.name == name }
    }

    static func statusOf(_ checks: [DoctorCheck], _ name: String) -> CheckStatus? { named(checks, name)?.status }

    // MARK: a healthy setup

    @Test("a healthy setup passes every named check, in order, with no fix lines")
    func healthySetup() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let (checks, factory) = run(ScriptedTransport([Self.probeAnswer()]))
        #expect(
            checks.map(\.name) == [
                "vault.present", "vault.readable", "vault.permissions", "key.source", "key.permissions", "profiles.valid",
                "profile.acme.quirks", "credential.acme.state", "credential.acme.issuer", "credential.acme.expiry",
                "credential.acme.scopes",
                "credential.acme.refresh_token", "endpoint.acme.proxy", "endpoint.acme.tls", "endpoint.acme.reachable",
                "endpoint.acme.clock", "files.leftovers",
            ])
        for check in checks {
            #expect(check.status == .pass, "\(check.name): \(check.message)")
            #expect(check.fix == nil)
        }
        #expect(DoctorSummary(checks) == DoctorSummary([]).adding(pass: checks.count))
        #expect(factory.transport.requestCount == 1)
    }

    @Test("the probe is a form POST with an unknown grant type and no credentials or tokens")
    func probeCarriesNoSecret() throws {
        try world.profile("acme", oauth: "client_secret = \"s3cret\"")
        try world.store(Self.healthy())
        let (_, factory) = run(ScriptedTransport([Self.probeAnswer()]))
        let request = try #require(factory.transport.requests.first)
        #expect(request.url == Self.endpoint)
        #expect(request.bodyText == "grant_type=tokenrun_doctor_probe")
        #expect(request.header("Authorization") == nil)
        for secret in ["s3cret", "rt-old", "at-old", "tokenrun-cli"] {
            #expect(!request.bodyText.contains(secret))
            #expect(!request.headers.contains { $0.1.contains(secret) })
        }
    }

    // MARK: endpoint

    @Test("clock skew: within 60 s passes, over 60 s warns, over 300 s fails either way, no Date warns")
    func clockSkew() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let cases: [(Int64?, CheckStatus)] = [(-30, .pass), (120, .warn), (600, .fail), (-600, .fail), (nil, .warn)]
        for (skew, expected) in cases {
            let (checks, _) = run(ScriptedTransport([Self.probeAnswer(skew: skew)]))
            let clock = try #require(Self.named(checks, "endpoint.acme.clock"))
            #expect(clock.status == expected, "skew \(String(describing: skew)): \(clock.message)")
            if expected != .pass, skew != nil {
                #expect(clock.fix == "sync the clock: timedatectl set-ntp true")
                #expect(clock.message.contains("\(abs(skew!)) s \(skew! > 0 ? "behind" : "ahead of")"))
            }
        }
    }

    @Test("an unreachable endpoint fails with a fix naming its URL, and its clock is not checked")
    func unreachable() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let (checks, _) = run(ScriptedTransport([.fail(.connectFailed("connection refused"))]))
        let reachable = try #require(Self.named(checks, "endpoint.acme.reachable"))
        #expect(reachable.status == .fail)
        #expect(reachable.message.contains("connection refused"))
        #expect(reachable.fix?.contains(Self.endpoint) == true)
        #expect(Self.named(checks, "endpoint.acme.clock") == nil)
    }

    @Test("an HTML page, a redirect or a 5xx is reachable but suspect: warn")
    func suspectAnswers() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let html = ScriptedTransport.Step.respond(
            HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>Sign in to Wi-Fi</html>".utf8)))
        let redirect = ScriptedTransport.Step.respond(
            HTTPResponse(status: 302, headers: [("Location", "https://portal.example/")], body: []))
        for (step, word) in [(html, "HTML"), (redirect, "redirects"), (.status(503), "trouble")] {
            let (checks, _) = run(ScriptedTransport([step]))
            let reachable = try #require(Self.named(checks, "endpoint.acme.reachable"))
            #expect(reachable.status == .warn, "\(reachable.message)")
            #expect(reachable.message.contains(word))
            #expect(reachable.fix != nil)
        }
    }

    @Test("--offline sends nothing and builds no transport")
    func offline() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let (checks, factory) = run(offline: true)
        #expect(factory.callCount == 0)
        #expect(!checks.contains { $0.name.hasPrefix("endpoint.") })
        #expect(checks.allSatisfy { $0.status == .pass })
    }

    @Test("profiles sharing a token endpoint share one probe")
    func oneProbePerEndpoint() throws {
        try world.profile("acme")
        try world.profile("acme2")
        try world.store(Self.healthy())
        try world.store(Self.healthy("acme2"))
        let (checks, factory) = run(ScriptedTransport([Self.probeAnswer()]))
        #expect(factory.transport.requestCount == 1)
        #expect(Self.statusOf(checks, "endpoint.acme.reachable") == .pass)
        #expect(Self.statusOf(checks, "endpoint.acme2.reachable") == .pass)
    }

    // MARK: credentials

    @Test("credential state: expired warns, invalid fails with a login fix")
    func credentialStates() throws {
        try world.profile("acme")
        var credential = Self.healthy()
        credential.state = .expired
        credential.lastError = "the token endpoint answered HTTP 503"
        try world.store(credential)
        let expired = try #require(Self.named(run(offline: true).checks, "credential.acme.state"))
        #expect(expired.status == .warn)
        #expect(expired.message.contains("HTTP 503"))
        credential.state = .invalid
        credential.lastError = "invalid_grant"
        try world.store(credential)
        let checks = run(offline: true).checks
        let invalid = try #require(Self.named(checks, "credential.acme.state"))
        #expect(invalid.status == .fail)
        #expect(invalid.fix == "tokenrun login -p acme")
        #expect(Self.statusOf(checks, "credential.acme.refresh_token") == .fail)
    }

    @Test("an expired access token is normal with a refresh token, and a failure without one")
    func expiry() throws {
        try world.profile("acme")
        var credential = Self.healthy()
        credential.expiresAt = Self.now - 7200
        try world.store(credential)
        let renewable = try #require(Self.named(run(offline: true).checks, "credential.acme.expiry"))
        #expect(renewable.status == .pass, "\(renewable.message)")
        #expect(renewable.message.contains("expired 2h ago"))
        credential.refreshToken = nil
        try world.store(credential)
        let dead = try #require(Self.named(run(offline: true).checks, "credential.acme.expiry"))
        #expect(dead.status == .fail)
        #expect(dead.fix == "tokenrun login -p acme --force")
    }

    @Test("scopes added to the profile after the login fail with login --force")
    func scopesAdded() throws {
        try acme(scopes: #"["mail.read", "offline_access", "mail.send"]"#)
        try world.store(Self.healthy())
        let scopes = try #require(Self.named(run(offline: true).checks, "credential.acme.scopes"))
        #expect(scopes.status == .fail)
        #expect(scopes.message.contains("mail.send"))
        #expect(!scopes.message.contains("mail.read"))
        #expect(scopes.fix == "tokenrun login -p acme --force")
    }

    @Test("a profile named with -p but never logged in fails; without -p only stored credentials are checked")
    func notLoggedIn() throws {
        try world.profile("acme")
        try world.profile("other")
        try world.store(Self.healthy())
        let named = run(requested: ["other"], offline: true).checks
        let state = try #require(Self.named(named, "credential.other.state"))
        #expect(state.status == .fail)
        #expect(state.fix == "tokenrun login -p other")
        #expect(Self.named(named, "credential.acme.state") == nil)
        let all = run(offline: true).checks
        #expect(Self.named(all, "credential.other.state") == nil)
        #expect(Self.statusOf(all, "profile.other.quirks") == .pass)
        #expect(Self.statusOf(all, "credential.acme.state") == .pass)
    }

    @Test("a stored credential whose profile is gone warns")
    func orphanCredential() throws {
        try world.store(Self.healthy("gone"))
        let state = try #require(Self.named(run(offline: true).checks, "credential.gone.state"))
        #expect(state.status == .warn)
        #expect(state.message.contains("no profile gone"))
    }

    // MARK: vault and key

    @Test("no vault: vault.present warns, the rest of the vault checks are left out, and a named profile is not logged in")
    func noVault() throws {
        try world.profile("acme")
        let (checks, _) = run(requested: ["acme"], offline: true)
        let present = try #require(Self.named(checks, "vault.present"))
        #expect(present.status == .warn)
        #expect(present.fix?.hasPrefix("tokenrun login -p acme") == true)
        #expect(Self.named(checks, "vault.readable") == nil)
        #expect(Self.named(checks, "key.source") == nil)
        #expect(Self.statusOf(checks, "credential.acme.state") == .fail)
    }

    @Test("a vault open to others fails vault.permissions with chmod 600; a world-writable directory with chmod 700")
    func vaultPermissions() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        chmod(world.paths.vault, 0o644)
        let file = try #require(Self.named(run(offline: true).checks, "vault.permissions"))
        #expect(file.status == .fail)
        #expect(file.message.contains("0644"))
        #expect(file.fix == "chmod 600 \(world.paths.vault)")
        chmod(world.paths.vault, 0o600)
        let directory = world.paths.vault.directoryName
        chmod(directory, 0o777)
        defer { chmod(directory, 0o700) }
        let dir = try #require(Self.named(run(offline: true).checks, "vault.permissions"))
        #expect(dir.status == .fail)
        #expect(dir.fix == "chmod 700 \(directory)")
    }

    @Test("a wrong key file fails key.source and leaves the credentials unchecked; a key file open to others fails key.permissions")
    func wrongKey() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let keyPath = world.paths.defaultKeyFile
        let other = world.dir.path + "/other.key"
        try FileSystem.createExclusive(other, bytes: [UInt8](repeating: 7, count: 32))
        let checks = run(offline: true, environment: ["TOKENRUN_KEY_FILE": other]).checks
        let key = try #require(Self.named(checks, "key.source"))
        #expect(key.status == .fail)
        #expect(key.message.contains("does not open the vault"))
        #expect(key.fix?.contains("TOKENRUN_KEY_FILE") == true)
        #expect(Self.statusOf(checks, "vault.readable") == .pass)
        #expect(!checks.contains { $0.name.hasPrefix("credential.") })

        chmod(keyPath, 0o644)
        let open = run(offline: true).checks
        #expect(Self.statusOf(open, "key.permissions") == .fail)
        #expect(Self.named(open, "key.permissions")?.fix == "chmod 600 \(keyPath)")
        unlink(keyPath)
        let missing = try #require(Self.named(run(offline: true).checks, "key.source"))
        #expect(missing.status == .fail)
        #expect(missing.message.contains("does not exist"))
    }

    @Test("a damaged vault fails vault.readable and is left byte for byte as it was")
    func corruptVault() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let path = world.paths.vault
        var bytes = try #require(try FileSystem.readFile(path))
        bytes.removeLast(bytes.count / 2)
        unlink(path)
        try FileSystem.createExclusive(path, bytes: bytes)
        let checks = run(offline: true).checks
        let readable = try #require(Self.named(checks, "vault.readable"))
        #expect(readable.status == .fail)
        #expect(readable.fix?.contains("restore") == true)
        #expect(Self.named(checks, "key.source") == nil)
        #expect(try FileSystem.readFile(path) == bytes)
    }

    @Test("a vault whose MAC does not verify fails vault.readable though the key fits")
    func tamperedVault() throws {
        try world.profile("acme")
        try world.store(Self.healthy())
        let path = world.paths.vault
        var text = String(decoding: try #require(try FileSystem.readFile(path)), as: UTF8.self)
        let mac = try #require(text.firstRange(of: "\nmac "))
        let index = text.index(mac.upperBound, offsetBy: 5)
        let replacement: Character = text[index] == "A" ? "B" : "A"
        text.replaceSubrange(index...index, with: String(replacement))
        unlink(path)
        try FileSystem.createExclusive(path, bytes: Array(text.utf8))
        let checks = run(offline: true).checks
        #expect(Self.statusOf(checks, "vault.readable") == .fail)
        #expect(Self.named(checks, "vault.readable")?.message.contains("altered") == true)
        #expect(Self.statusOf(checks, "key.source") == .pass)
    }

    @Test("a passphrase vault with nothing but a terminal prompt warns and is never prompted for")
    func passphraseVault() throws {
        try world.profile("acme")
        try world.dir.write("pass", "open sesame\n")
        let environment = ["TOKENRUN_PASSPHRASE_FILE": world.dir.file("pass")]
        let vault = try world.sealed.create(.passphrase(try SecretBytes(utf8: "open sesame"), cost: .interactive), now: Self.now)
        try vault.store(Self.healthy())
        let unlocked = run(offline: true, environment: environment).checks
        #expect(Self.statusOf(unlocked, "key.source") == .pass)
        #expect(Self.statusOf(unlocked, "key.permissions") == .pass)
        #expect(Self.statusOf(unlocked, "credential.acme.state") == .pass)
        for hasTerminal in [false, true] {
            let checks = run(offline: true, hasTerminal: hasTerminal).checks
            let key = try #require(Self.named(checks, "key.source"))
            #expect(key.status == .warn)
            #expect(key.fix?.contains("TOKENRUN_PASSPHRASE_FILE") == true)
            #expect(!checks.contains { $0.name.hasPrefix("credential.") })
        }
    }

    // MARK: profiles and files

    @Test("an invalid profile file fails profiles.valid naming file:line; valid ones pass")
    func invalidProfile() throws {
        try world.profile("acme")
        try world.dir.write("config/tokenrun/profiles/broken.toml", "description = \"x\"\n[oauth]\nscopez = [\"a\"]\n")
        let checks = run(offline: true).checks
        let failures = checks.filter { $0.name == "profiles.valid" }
        #expect(failures.count == 1)
        let failure = try #require(failures.first)
        #expect(failure.status == .fail)
        #expect(failure.message.contains("broken.toml:3"))
        #expect(failure.fix?.contains("scopes") == true)
        #expect(Self.named(checks, "profile.broken.quirks") == nil)
        #expect(Self.statusOf(checks, "profile.acme.quirks") == .pass)
    }

    @Test("a Microsoft profile without offline_access and a Google one without access_type=offline warn")
    func quirks() throws {
        try world.profile(
            "ms",
            """
            [oauth]
            token_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
            client_id = "x"
            scopes = ["Mail.Read"]
            """)
        try world.profile(
            "goog",
            """
            [oauth]
            token_endpoint = "https://oauth2.googleapis.com/token"
            authorization_endpoint = "https://accounts.google.com/o/oauth2/v2/auth"
            client_id = "x"
            """)
        try world.profile(
            "msok",
            """
            [oauth]
            token_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
            client_id = "x"
            scopes = ["Mail.Read", "offline_access"]
            """)
        let checks = run(offline: true).checks
        let ms = try #require(Self.named(checks, "profile.ms.quirks"))
        #expect(ms.status == .warn)
        #expect(ms.fix?.contains("offline_access") == true)
        let google = try #require(Self.named(checks, "profile.goog.quirks"))
        #expect(google.status == .warn)
        #expect(google.fix?.contains("access_type") == true)
        #expect(Self.statusOf(checks, "profile.msok.quirks") == .pass)
    }

    @Test("a private directory of a dead launch warns with an rm -rf fix; a live launch's is left alone")
    func leftovers() throws {
        let base = world.dir.path + "/runtime/tokenrun"
        try FileSystem.makeDirectories(base + "/run-\(getpid())-live")
        let clean = try #require(Self.named(run(offline: true).checks, "files.leftovers"))
        #expect(clean.status == .pass)
        let dead = base + "/run-99999999-abc"
        try FileSystem.makeDirectories(dead)
        try FileSystem.createExclusive(dead + "/acme", bytes: Array("at-old".utf8))
        let check = try #require(Self.named(run(offline: true).checks, "files.leftovers"))
        #expect(check.status == .warn)
        #expect(check.message.contains("run-99999999-abc"))
        #expect(!check.message.contains("live"))
        #expect(check.fix?.hasPrefix("rm -rf \(dead)") == true)
        #expect(FileSystem.exists(dead + "/acme"))
    }

    @Test("no message or fix ever holds a token or a secret")
    func noSecrets() throws {
        try acme(scopes: #"["mail.read", "mail.send"]"#, oauth: #"client_secret = "s3cret""#)
        var credential = Self.healthy()
        credential.state = .invalid
        credential.lastError = "invalid_grant"
        credential.clientSecret = SecretString("vault-secret")
        credential.idToken = SecretString("id-token-value")
        try world.store(credential)
        let (checks, _) = run(ScriptedTransport([Self.probeAnswer(skew: 900)]), requested: ["acme"])
        #expect(checks.contains { $0.status == .fail })
        for check in checks {
            for secret in ["at-old", "rt-old", "s3cret", "vault-secret", "id-token-value"] {
                #expect(!check.message.contains(secret), "\(check.name)")
                #expect(!(check.fix ?? "").contains(secret), "\(check.name)")
            }
        }
    }
}

extension DoctorSummary {
    func adding(pass count: Int) -> DoctorSummary {
        var copy = self
        copy.pass += count
        return copy
    }
}
