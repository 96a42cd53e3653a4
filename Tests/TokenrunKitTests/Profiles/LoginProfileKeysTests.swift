import Testing
@testable import TokenrunProfiles
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("profiles: kind, grant_type, redirect_port, redirect_host, on_reauth_required")
struct LoginProfileKeysTests {
    let dir = TemporaryDirectory()

    var store: ProfileStore { ProfileStore(environment: dir.environment, builtins: [:]) }

    func user(_ name: String, _ text: String) throws {
        try dir.write("config/tokenrun/profiles/\(name).toml", text)
    }

    func load(_ text: String) throws -> Profile {
        try user("p", text)
        return try store.load("p")
    }

    /// Loads `text` as profile "p" and returns the diagnostic it fails with.
    func diagnostic(_ text: String) throws -> ProfileDiagnostic? {
        try user("p", text)
        do {
            _ = try store.load("p")
            return nil
        } catch let error as TokenrunError {
            if case .profileInvalid(let diagnostic) = error { return diagnostic }
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    // MARK: ca_file

    @Test("oauth.ca_file is read as written, is inherited through extends, and is shown by profiles show")
    func caFile() throws {
        #expect(try load("[oauth]\nca_file = \"/etc/corp/ca.pem\"\n").oauth.caFile == "/etc/corp/ca.pem")
        #expect(try load("[oauth]\nca_file = \"~/ca.pem\"\n").oauth.caFile == "~/ca.pem")
        #expect(try load("description = \"x\"\n").oauth.caFile == nil)
        try user("base", "[oauth]\nca_file = \"/etc/corp/ca.pem\"\n")
        let child = try load("extends = \"base\"\n")
        #expect(child.oauth.caFile == "/etc/corp/ca.pem")
        #expect(ProfileRendering.toml(child).contains("ca_file = \"/etc/corp/ca.pem\""))
    }

    @Test("a relative oauth.ca_file names the line and asks for an absolute path")
    func relativeCAFile() throws {
        let relative = try #require(try diagnostic("description = \"x\"\n[oauth]\nca_file = \"ca.pem\"\n"))
        #expect(relative.line == 3)
        #expect(relative.message.contains("oauth.ca_file: \"ca.pem\" is not an absolute path"), "\(relative.message)")
    }

    // MARK: kind

    @Test("kind is oauth unless the profile says api_key")
    func kind() throws {
        #expect(try load("description = \"x\"\n").kind == .oauth)
        #expect(try load("kind = \"oauth\"\n").kind == .oauth)
        #expect(try load("kind = \"api_key\"\n[env]\nKEY = \"{{access_token}}\"\n").kind == .apiKey)
    }

    @Test("a wrong kind names the file, the line and the nearest kind")
    func badKind() throws {
        let near = try #require(try diagnostic("description = \"x\"\nkind = \"apikey\"\n"))
        #expect(near.file.hasSuffix("p.toml"))
        #expect(near.line == 2)
        #expect(near.message.contains("kind: \"apikey\" is not one of oauth, api_key"))
        #expect(near.hint == "did you mean \"api_key\"?")
        let far = try #require(try diagnostic("kind = \"saml-assertion\"\n"))
        #expect(far.hint?.contains("oauth, api_key") == true)
        let typed = try #require(try diagnostic("kind = 1\n"))
        #expect(typed.message.contains("kind must be a string, found integer"))
    }

    // MARK: on_reauth_required

    @Test("on_reauth_required holds a shell command; an empty one is refused with its line")
    func onReauthRequired() throws {
        let command = #"notify-send "tokenrun" "$TOKENRUN_REAUTH_REASON""#
        #expect(try load("on_reauth_required = '\(command)'\n").onReauthRequired == command)
        #expect(try load("description = \"x\"\n").onReauthRequired == nil)
        for empty in ["\"\"", "\"   \"", "\"\\t\""] {
            let found = try #require(try diagnostic("description = \"x\"\non_reauth_required = \(empty)\n"), "\(empty)")
            #expect(found.line == 2)
            #expect(found.message.contains("on_reauth_required is empty"))
        }
        #expect(try diagnostic("on_reauth_required = [\"a\"]\n")?.message.contains("must be a string") == true)
    }

    @Test("on_reauth_required under [oauth] is misplaced: the hint says it belongs at the top level")
    func onReauthMisplaced() throws {
        let found = try #require(try diagnostic("[oauth]\non_reauth_required = \"x\"\n"))
        #expect(found.line == 2)
        #expect(found.hint == "did you mean \"on_reauth_required\"? It belongs at the top level, before any [table]")
    }

    // MARK: grant_type

    @Test("each grant_type is accepted", arguments: GrantType.allCases)
    func grantTypes(_ grant: GrantType) throws {
        #expect(try load("[oauth]\ngrant_type = \"\(grant.rawValue)\"\n").oauth.grantType == grant)
    }

    @Test(
        "a near-miss grant_type suggests the right one, with the file and line",
        arguments: [
            ("device", "device_code"), ("client-credentials", "client_credentials"), ("authorization-code", "authorization_code"),
            ("authorisation_code", "authorization_code"), ("Device_Code", "device_code"),
        ])
    func grantTypeNearMiss(_ written: String, _ suggested: String) throws {
        let found = try #require(try diagnostic("description = \"x\"\n\n[oauth]\ngrant_type = \"\(written)\"\n"))
        #expect(found.file.hasSuffix("p.toml"))
        #expect(found.line == 4)
        #expect(
            found.message.contains("oauth.grant_type: \"\(written)\" is not one of authorization_code, device_code, client_credentials"))
        #expect(found.hint == "did you mean \"\(suggested)\"?")
    }

    @Test("a grant_type far from any lists the valid ones")
    func grantTypeFar() throws {
        let found = try #require(try diagnostic("[oauth]\ngrant_type = \"password\"\n"))
        #expect(found.hint == "valid grant types here: authorization_code, device_code, client_credentials")
    }

    // MARK: redirect_port, redirect_host

    @Test("redirect_port accepts whole numbers from 1 to 65535", arguments: [1, 8080, 53682, 65535])
    func redirectPort(_ port: Int) throws {
        #expect(try load("[oauth]\nredirect_port = \(port)\n").oauth.redirectPort == port)
    }

    @Test(
        "redirect_port refuses 0, out-of-range, negative and quoted values, naming the line",
        arguments: ["0", "65536", "-1", "\"8080\"", "true", "99999999999"])
    func badRedirectPort(_ value: String) throws {
        let found = try #require(try diagnostic("[oauth]\nclient_id = \"c\"\nredirect_port = \(value)\n"))
        #expect(found.line == 3)
        #expect(found.message.contains("oauth.redirect_port must be a port number from 1 to 65535"))
    }

    @Test("a fractional redirect_port is refused as a number no profile holds, naming the line")
    func fractionalRedirectPort() throws {
        let found = try #require(try diagnostic("[oauth]\nclient_id = \"c\"\nredirect_port = 80.5\n"))
        #expect(found.line == 3)
        #expect(found.message.hasPrefix("a number with a fraction or exponent is not allowed in a profile; write a whole number"))
    }

    @Test("redirect_host is 127.0.0.1 or localhost", arguments: ["127.0.0.1", "localhost"])
    func redirectHost(_ host: String) throws {
        #expect(try load("[oauth]\nredirect_host = \"\(host)\"\n").oauth.redirectHost == host)
    }

    @Test(
        "any other redirect_host is refused: the redirect never leaves this machine",
        arguments: ["0.0.0.0", "::1", "[::1]", "127.0.0.2", "example.com", "LOCALHOST", "localhost:8080", ""])
    func badRedirectHost(_ host: String) throws {
        let found = try #require(try diagnostic("[oauth]\n\nredirect_host = \"\(host)\"\n"))
        #expect(found.line == 3)
        #expect(found.message.contains("\"127.0.0.1\" or \"localhost\""))
    }

    // MARK: extends

    @Test("the new keys are inherited through extends, and a child overrides them one by one")
    func inheritance() throws {
        try user(
            "base",
            """
            kind = "oauth"
            on_reauth_required = "notify-send base"

            [oauth]
            token_endpoint = "https://auth.example.test/token"
            grant_type = "device_code"
            redirect_port = 8400
            redirect_host = "localhost"
            """)
        try user("same", "extends = \"base\"\ndescription = \"inherits everything\"\n")
        let same = try store.load("same")
        #expect(same.onReauthRequired == "notify-send base")
        #expect(same.oauth.grantType == .deviceCode)
        #expect(same.oauth.redirectPort == 8400)
        #expect(same.oauth.redirectHost == "localhost")
        #expect(same.kind == .oauth)

        try user("child", "extends = \"base\"\non_reauth_required = \"mail -s reauth me\"\n[oauth]\ngrant_type = \"authorization_code\"\n")
        let child = try store.load("child")
        #expect(child.onReauthRequired == "mail -s reauth me")
        #expect(child.oauth.grantType == .authorizationCode)
        #expect(child.oauth.redirectPort == 8400)
        #expect(child.oauth.redirectHost == "localhost")

        try user("key", "extends = \"base\"\nkind = \"api_key\"\n")
        #expect(try store.load("key").kind == .apiKey)
    }

    @Test("an error in an inherited file names that file and line")
    func inheritedError() throws {
        try user("base", "[oauth]\ngrant_type = \"devicecode\"\n")
        try user("child", "extends = \"base\"\n")
        do {
            _ = try store.load("child")
            Issue.record("expected an error")
        } catch let error as TokenrunError {
            guard case .profileInvalid(let found) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(found.file.hasSuffix("base.toml"))
            #expect(found.line == 2)
            #expect(found.hint == "did you mean \"device_code\"?")
        }
    }

    // MARK: rendering

    @Test("profiles show renders the new keys, and the rendering loads back to the same values")
    func rendering() throws {
        try user(
            "acme",
            """
            kind = "api_key"
            on_reauth_required = "notify-send \\"re-login: $TOKENRUN_PROFILE\\""

            [oauth]
            token_endpoint = "https://auth.example.test/token"
            client_id = "c"
            grant_type = "client_credentials"
            redirect_port = 8400
            redirect_host = "localhost"
            """)
        let profile = try store.load("acme")
        let text = ProfileRendering.toml(profile)
        #expect(text.contains("kind = \"api_key\""))
        #expect(text.contains(#"on_reauth_required = "notify-send \"re-login: $TOKENRUN_PROFILE\"""#))
        #expect(text.contains("grant_type = \"client_credentials\""))
        #expect(text.contains("redirect_port = 8400"))
        #expect(text.contains("redirect_host = \"localhost\""))
        try user("again", text)
        let again = try store.load("again")
        #expect(again.kind == profile.kind)
        #expect(again.onReauthRequired == profile.onReauthRequired)
        #expect(again.oauth == profile.oauth)
    }

    @Test("profiles show leaves out what is not set: no kind line for oauth, no grant or redirect keys")
    func renderingDefaults() throws {
        try user("acme", "[oauth]\ntoken_endpoint = \"https://auth.example.test/token\"\nclient_id = \"c\"\n")
        let text = ProfileRendering.toml(try store.load("acme"))
        for key in ["kind", "on_reauth_required", "grant_type", "redirect_port", "redirect_host"] {
            #expect(!text.contains("\(key) ="), "\(key)")
        }
    }

    // MARK: Profile's derived values

    @Test(
        "the effective grant: the profile's choice, else device_code when only a device endpoint exists, else authorization_code",
        arguments: [
            (nil, true, false, GrantType.deviceCode), (nil, true, true, .authorizationCode), (nil, false, true, .authorizationCode),
            (nil, false, false, .authorizationCode), (.clientCredentials, true, false, .clientCredentials),
            (.deviceCode, false, true, .deviceCode), (.authorizationCode, true, false, .authorizationCode),
        ] as [(GrantType?, Bool, Bool, GrantType)])
    func effectiveGrant(_ chosen: GrantType?, _ device: Bool, _ authorization: Bool, _ expected: GrantType) {
        let profile = Profile.make {
            $0.grantType = chosen
            $0.deviceAuthorizationEndpoint = device ? "https://a.example/device" : nil
            $0.authorizationEndpoint = authorization ? "https://a.example/authorize" : nil
        }
        #expect(profile.grantType == expected)
    }

    @Test("only user-consent OAuth grants need a refresh token")
    func needsRefreshToken() {
        #expect(Profile.make { $0.grantType = .authorizationCode }.needsRefreshToken)
        #expect(Profile.make { $0.grantType = .deviceCode }.needsRefreshToken)
        #expect(Profile.make().needsRefreshToken)
        #expect(!Profile.make { $0.grantType = .clientCredentials }.needsRefreshToken)
        #expect(!Profile.make(kind: .apiKey).needsRefreshToken)
    }

    static func credential(scopes: [String], requested: [String]?) -> Credential {
        var credential = Credential(profile: "acme", accessToken: SecretString("at"), scopes: scopes, updatedAt: 0)
        credential.requestedScopes = requested
        return credential
    }

    @Test("scopes added to a profile after the login are reported missing; granted or requested scopes count as covered")
    func scopesMissing() {
        let profile = Profile.make { $0.scopes = ["openid", "mail.read", "mail.send"] }
        #expect(profile.scopesMissing(from: Self.credential(scopes: ["openid", "mail.read"], requested: nil)) == ["mail.send"])
        #expect(profile.scopesMissing(from: Self.credential(scopes: ["openid", "mail.read", "mail.send"], requested: nil)).isEmpty)
        // The provider answered with other spellings: what was asked for counts.
        #expect(
            profile.scopesMissing(
                from: Self.credential(scopes: ["https://x.example/mail.read"], requested: ["openid", "mail.read", "mail.send"])
            ).isEmpty)
        #expect(profile.scopesMissing(from: Self.credential(scopes: ["openid"], requested: ["mail.read"])) == ["mail.send"])
        #expect(Profile.make().scopesMissing(from: Self.credential(scopes: ["a"], requested: nil)).isEmpty)
    }

    @Test("an imported credential with no scopes recorded, and any api_key profile, miss nothing")
    func scopesMissingUnknown() {
        let profile = Profile.make { $0.scopes = ["openid", "mail.read"] }
        #expect(profile.scopesMissing(from: Self.credential(scopes: [], requested: nil)).isEmpty)
        #expect(profile.scopesMissing(from: Self.credential(scopes: [], requested: [])).isEmpty)
        let apiKey = Profile.make(kind: .apiKey) { $0.scopes = ["openid", "mail.read"] }
        #expect(apiKey.scopesMissing(from: Self.credential(scopes: ["other"], requested: nil)).isEmpty)
    }
}
