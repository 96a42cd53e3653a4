import FoundationEssentials
import Testing
@testable import TokenrunLaunch
@testable import TokenrunProfiles
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("child environment and template values")
struct ChildEnvironmentTests {
    let world = VaultFixture()
    static let now = VaultFixture.now

    static let inherited = [
        "PATH": "/usr/bin:/bin", "HOME": "/home/me", "LANG": "C.UTF-8", "TOKENRUN_KEY_FILE": "/secret/vault.key",
        "TOKENRUN_PASSPHRASE": "hunter2", "TOKENRUN_PASSPHRASE_FILE": "/secret/pass", "CREDENTIALS_DIRECTORY": "/run/credentials/x",
    ]

    /// The environment for `injections`, each rendered as a launch renders it.
    static func build(
        inherited: [String: String], injections: [Injection], filePaths: [String: [String: String]], now: Int64
    ) throws -> [String: String] {
        try ChildEnvironment.build(
            inherited: inherited, rendered: injections.map { RenderedInjection($0, now: now) }, filePaths: filePaths)
    }

    func gmail() throws -> Profile {
        try world.profile(
            "gmail",
            """
            username = "me@gmail.example"
            [oauth]
            token_endpoint = "https://oauth2.example.test/token"
            client_id = "gmail-client"
            scopes = ["https://mail.google.com/"]
            [env]
            GMAIL_TOKEN = "{{access_token}}"
            GMAIL_AUTH = "{{token_type}} {{access_token}}"
            GMAIL_USER = "{{username}}"
            [[file]]
            path_env = "GMAIL_TOKEN_FILE"
            template = "{{access_token}}"
            """)
    }

    func work() throws -> Profile {
        try world.profile(
            "work-mail.v2",
            """
            [oauth]
            token_endpoint = "https://login.example.test/token"
            client_id = "work-client"
            [env]
            WORK_TOKEN = "{{access_token}}"
            WORK_EXPIRES_IN = "{{expires_in}}"
            """)
    }

    static func credential(_ profile: String, token: String, expiresAt: Int64?) -> Credential {
        Credential(
            profile: profile, refreshToken: SecretString("rt-\(profile)-SECRET"), accessToken: SecretString(token),
            tokenType: "Bearer", scopes: ["s1", "s2"], expiresAt: expiresAt, issuedAt: expiresAt.map { $0 - 3600 }, updatedAt: now)
    }

    @Test("key-source variables are removed, everything else inherited is kept, [env] is rendered")
    func oneProfile() throws {
        let injection = Injection(
            profile: try gmail(), credential: Self.credential("gmail", token: "ya29.gmail", expiresAt: Self.now + 1800))
        let env = try Self.build(inherited: Self.inherited, injections: [injection], filePaths: [:], now: Self.now)
        for variable in KeyVariables.names { #expect(env[variable] == nil, "\(variable) reached the child") }
        #expect(env["PATH"] == "/usr/bin:/bin")
        #expect(env["HOME"] == "/home/me")
        #expect(env["LANG"] == "C.UTF-8")
        #expect(env["GMAIL_TOKEN"] == "ya29.gmail")
        #expect(env["GMAIL_AUTH"] == "Bearer ya29.gmail")
        #expect(env["GMAIL_USER"] == "me@gmail.example")
        #expect(env["TOKENRUN_PROFILE"] == "gmail")
        #expect(env["TOKENRUN_EXPIRES_AT"] == String(Self.now + 1800))
        #expect(env["TOKENRUN_EXPIRES_AT_GMAIL"] == String(Self.now + 1800))
        #expect(!env.values.contains("rt-gmail-SECRET"), "the refresh token reached the child")
        let expected = Set(Self.inherited.keys).subtracting(KeyVariables.names).union([
            "GMAIL_TOKEN", "GMAIL_AUTH", "GMAIL_USER", "TOKENRUN_PROFILE", "TOKENRUN_EXPIRES_AT", "TOKENRUN_EXPIRES_AT_GMAIL",
        ])
        #expect(Set(env.keys) == expected)
    }

    @Test("two profiles: both rendered, TOKENRUN_PROFILE lists both in order, TOKENRUN_EXPIRES_AT is the earliest")
    func twoProfiles() throws {
        let injections = [
            Injection(profile: try gmail(), credential: Self.credential("gmail", token: "ya29.gmail", expiresAt: Self.now + 3000)),
            Injection(profile: try work(), credential: Self.credential("work-mail.v2", token: "eyJ.work", expiresAt: Self.now + 600)),
        ]
        let env = try Self.build(inherited: [:], injections: injections, filePaths: [:], now: Self.now)
        #expect(env["TOKENRUN_PROFILE"] == "gmail,work-mail.v2")
        #expect(env["GMAIL_TOKEN"] == "ya29.gmail")
        #expect(env["WORK_TOKEN"] == "eyJ.work")
        #expect(env["WORK_EXPIRES_IN"] == "600")
        #expect(env["TOKENRUN_EXPIRES_AT"] == String(Self.now + 600))
        #expect(env["TOKENRUN_EXPIRES_AT_GMAIL"] == String(Self.now + 3000))
        #expect(env["TOKENRUN_EXPIRES_AT_WORK_MAIL_V2"] == String(Self.now + 600))

        let reversed = try Self.build(inherited: [:], injections: injections.reversed(), filePaths: [:], now: Self.now)
        #expect(reversed["TOKENRUN_PROFILE"] == "work-mail.v2,gmail")
        #expect(reversed["TOKENRUN_EXPIRES_AT"] == String(Self.now + 600))
    }

    @Test(
        "per-profile expiry variable names",
        arguments: [
            ("gmail", "TOKENRUN_EXPIRES_AT_GMAIL"), ("work-mail.v2", "TOKENRUN_EXPIRES_AT_WORK_MAIL_V2"),
            ("ms_graph2", "TOKENRUN_EXPIRES_AT_MS_GRAPH2"),
        ])
    func expiryVariable(_ profile: String, _ expected: String) {
        #expect(ChildEnvironment.expiryVariable(for: profile) == expected)
    }

    @Test("a credential without an expiry sets no expiry variables")
    func noExpiry() throws {
        let injection = Injection(profile: try work(), credential: Self.credential("work-mail.v2", token: "t", expiresAt: nil))
        let env = try Self.build(inherited: [:], injections: [injection], filePaths: [:], now: Self.now)
        #expect(env["TOKENRUN_EXPIRES_AT"] == nil)
        #expect(env["TOKENRUN_EXPIRES_AT_WORK_MAIL_V2"] == nil)
        #expect(env["WORK_EXPIRES_IN"] == "")
        #expect(env["TOKENRUN_PROFILE"] == "work-mail.v2")
    }

    @Test("written file paths are injected under their path_env")
    func filePaths() throws {
        let injection = Injection(profile: try gmail(), credential: Self.credential("gmail", token: "t", expiresAt: Self.now + 100))
        let env = try Self.build(
            inherited: ["GMAIL_TOKEN_FILE": "/stale"], injections: [injection],
            filePaths: ["gmail": ["GMAIL_TOKEN_FILE": "/run/user/1000/tokenrun/run-1-ab/gmail.token"]], now: Self.now)
        #expect(env["GMAIL_TOKEN_FILE"] == "/run/user/1000/tokenrun/run-1-ab/gmail.token")
    }

    @Test("a rendered value holding NUL is refused, naming the variable and profile")
    func nulInValue() throws {
        let injection = Injection(
            profile: try gmail(), credential: Self.credential("gmail", token: "ya29\u{0}x", expiresAt: Self.now + 100))
        let error = #expect(throws: TokenrunError.self) {
            try Self.build(inherited: [:], injections: [injection], filePaths: [:], now: Self.now)
        }
        #expect(error == .unsafeEnvironmentValue(variable: "GMAIL_TOKEN", profile: "gmail"))
        #expect(error?.exitCode == 78)
    }

    // MARK: template values

    @Test("xoauth2 is base64 of user=U^Aauth=Bearer T^A^A")
    func xoauth2() throws {
        // printf 'user=me@acme.example\x01auth=Bearer ya29.A0-token\x01\x01' | base64
        #expect(
            TemplateValues.xoauth2(username: "me@acme.example", token: "ya29.A0-token")
                == "dXNlcj1tZUBhY21lLmV4YW1wbGUBYXV0aD1CZWFyZXIgeWEyOS5BMC10b2tlbgEB")
        // printf 'user=\x01auth=Bearer T\x01\x01' | base64
        #expect(TemplateValues.xoauth2(username: "", token: "T") == "dXNlcj0BYXV0aD1CZWFyZXIgVAEB")
        let decoded = try #require(Data(base64Encoded: TemplateValues.xoauth2(username: "U", token: "T")))
        #expect(Array(decoded) == Array("user=U\u{1}auth=Bearer T\u{1}\u{1}".utf8))
    }

    @Test("template values for a profile and credential")
    func values() throws {
        let profile = try world.profile("acme")
        let credential = VaultFixture.credential("acme", accessToken: "ya29.A0-token", age: 600, lifetime: 3600)
        let values = TemplateValues.values(profile: profile, credential: credential, now: Self.now)
        #expect(values["access_token"] == "ya29.A0-token")
        #expect(values["token_type"] == "Bearer")
        #expect(values["expires_at"] == String(Self.now + 3000))
        #expect(values["expires_in"] == "3000")
        #expect(values["scope"] == "mail.read")
        #expect(values["client_id"] == "tokenrun-cli")
        #expect(values["username"] == "me@acme.example")
        #expect(values["xoauth2"] == "dXNlcj1tZUBhY21lLmV4YW1wbGUBYXV0aD1CZWFyZXIgeWEyOS5BMC10b2tlbgEB")
        #expect(values["refresh_token"] == nil)
        #expect(!values.values.contains("rt-old"))
        for name in Template.variables where name != "id_token" { #expect(values[name] != nil, "\(name) missing") }
    }

    @Test("expires_in never goes negative; stored scopes fall back to the profile's")
    func expiredValues() throws {
        let profile = try world.profile("acme")
        var credential = VaultFixture.credential("acme", age: 4000, lifetime: 3600)
        credential.scopes = []
        let values = TemplateValues.values(profile: profile, credential: credential, now: Self.now)
        #expect(values["expires_in"] == "0")
        #expect(values["scope"] == "mail.read offline_access")
    }

    @Test("refresh_token is a template value only when the profile exposes it")
    func refreshTokenExposure() throws {
        let hidden = try world.profile("acme")
        let exposed = try world.profile(
            "exposed",
            """
            expose_refresh_token = true
            [oauth]
            token_endpoint = "https://auth.example.test/token"
            client_id = "c"
            [env]
            RT = "{{refresh_token}}"
            """)
        let credential = VaultFixture.credential("acme", refreshToken: "rt-SECRET")
        #expect(TemplateValues.values(profile: hidden, credential: credential, now: Self.now)["refresh_token"] == nil)
        #expect(TemplateValues.values(profile: exposed, credential: credential, now: Self.now)["refresh_token"] == "rt-SECRET")
        let env = try Self.build(
            inherited: [:], injections: [Injection(profile: exposed, credential: credential)], filePaths: [:], now: Self.now)
        #expect(env["RT"] == "rt-SECRET")
    }
}
