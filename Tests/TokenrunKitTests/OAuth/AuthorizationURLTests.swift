import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("login: the authorization request URL")
struct AuthorizationURLTests {
    static let endpoint = "https://auth.example.test/oauth/authorize"
    static let redirectURI = "http://127.0.0.1:53682/"
    /// RFC 7636 Appendix B's verifier, so the challenge is known.
    static let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", state: "st4te-_x")
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    func login(
        endpoint: String? = Self.endpoint, scopes: [String] = ["openid", "mail.read"], params: [String: String] = [:],
        clientID: String = "tokenrun-cli"
    ) -> Login {
        let profile = Profile.make("acme") {
            $0.tokenEndpoint = "https://auth.example.test/oauth/token"
            $0.authorizationEndpoint = endpoint
            $0.clientID = clientID
            $0.scopes = scopes
            $0.authorizationParams = params
        }
        return Login(
            profile: profile, client: ClientCredentials(clientID: clientID, secret: nil, method: nil),
            transport: ScriptedTransport([]))
    }

    /// The URL's query, decoded, as [name, value] pairs in order.
    static func query(_ url: String) throws -> [[String]] {
        let start = try #require(url.firstIndex(of: "?"))
        return FormEncoding.decode(String(url[url.index(after: start)...])).map { [$0.0, $0.1] }
    }

    @Test("the URL carries response_type, client_id, redirect_uri, scope, state and the S256 challenge, in that order")
    func exactURL() throws {
        let url = try login().authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce)
        #expect(
            url
                == Self.endpoint
                + "?response_type=code&client_id=tokenrun-cli&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2F"
                + "&scope=openid%20mail.read&state=st4te-_x&code_challenge=\(Self.challenge)&code_challenge_method=S256")
    }

    @Test("the PKCE verifier is never in the URL")
    func noVerifier() throws {
        let pkce = try PKCE.generate()
        let url = try login().authorizationURL(redirectURI: Self.redirectURI, pkce: pkce)
        #expect(!url.contains(pkce.verifier.value))
        #expect(try Self.query(url).contains(["code_challenge", pkce.challenge]))
        #expect(try Self.query(url).contains(["state", pkce.state]))
    }

    @Test("values are form-encoded: a client id and scopes with reserved characters decode back as given")
    func encoded() throws {
        let url = try login(scopes: ["https://mail.google.com/", "a+b"], clientID: "123-abc.apps.googleusercontent.com&x=1")
            .authorizationURL(redirectURI: "http://localhost:8080/", pkce: Self.pkce)
        let query = try Self.query(url)
        #expect(query.contains(["client_id", "123-abc.apps.googleusercontent.com&x=1"]))
        #expect(query.contains(["scope", "https://mail.google.com/ a+b"]))
        #expect(query.contains(["redirect_uri", "http://localhost:8080/"]))
        #expect(!query.contains { $0[0] == "x" })
    }

    @Test("without scopes there is no scope parameter")
    func noScopes() throws {
        let query = try Self.query(try login(scopes: []).authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce))
        #expect(!query.contains { $0[0] == "scope" })
    }

    @Test("authorization_params are appended after the standard ones, in sorted key order")
    func extraParams() throws {
        let url = try login(params: ["prompt": "consent", "access_type": "offline", "login_hint": "me@example.com"])
            .authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce)
        let query = try Self.query(url)
        #expect(
            query.map { $0[0] } == [
                "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
                "access_type", "login_hint", "prompt",
            ])
        #expect(query.suffix(3) == [["access_type", "offline"], ["login_hint", "me@example.com"], ["prompt", "consent"]])
        #expect(url.hasSuffix("&access_type=offline&login_hint=me%40example.com&prompt=consent"))
    }

    @Test("authorization_params never override or repeat the reserved parameters")
    func reservedNotOverridden() throws {
        let params = [
            "response_type": "token", "client_id": "evil", "redirect_uri": "https://evil.example/", "scope": "everything",
            "state": "forged", "code_challenge": "x", "code_challenge_method": "plain", "prompt": "consent",
        ]
        let query = try Self.query(try login(params: params).authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce))
        let names = query.map { $0[0] }
        #expect(names.count == Set(names).count, "a parameter is repeated: \(names)")
        let values = Dictionary(uniqueKeysWithValues: query.map { ($0[0], $0[1]) })
        #expect(values["response_type"] == "code")
        #expect(values["client_id"] == "tokenrun-cli")
        #expect(values["redirect_uri"] == Self.redirectURI)
        #expect(values["scope"] == "openid mail.read")
        #expect(values["state"] == "st4te-_x")
        #expect(values["code_challenge"] == Self.challenge)
        #expect(values["code_challenge_method"] == "S256")
        #expect(values["prompt"] == "consent")
    }

    @Test("an endpoint that already has a query gets the parameters after &")
    func existingQuery() throws {
        let url = try login(endpoint: "https://login.example.test/authorize?tenant=common&p=B2C_1_signin")
            .authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce)
        #expect(url.hasPrefix("https://login.example.test/authorize?tenant=common&p=B2C_1_signin&response_type=code&"))
        #expect(url.filter { $0 == "?" }.count == 1)
        #expect(try Self.query(url).prefix(3) == [["tenant", "common"], ["p", "B2C_1_signin"], ["response_type", "code"]])
    }

    @Test("a profile without authorization_endpoint cannot start a browser login (profileIncomplete, suggesting --device)")
    func missingEndpoint() {
        let error = #expect(throws: TokenrunError.self) {
            try login(endpoint: nil).authorizationURL(redirectURI: Self.redirectURI, pkce: Self.pkce)
        }
        guard case .profileIncomplete(let profile, let missing)? = error else {
            Issue.record("expected profileIncomplete, got \(String(describing: error))")
            return
        }
        #expect(profile == "acme")
        #expect(missing.contains("oauth.authorization_endpoint"))
        #expect(missing.contains("--device"))
        #expect(error?.exitCode == 78)
    }
}
