import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("token endpoint: authorization code, device code and client credentials requests")
struct TokenEndpointGrantTests {
    static let url = "https://auth.example.test/oauth/token"
    static let redirectURI = "http://127.0.0.1:53682/"
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    func endpoint(_ transport: ScriptedTransport) -> TokenEndpoint {
        var endpoint = TokenEndpoint(url: Self.url, transport: transport)
        endpoint.clock = { 1_700_000_000 }
        return endpoint
    }

    static func client(_ method: ClientAuthMethod) -> ClientCredentials {
        ClientCredentials(clientID: "cli:ent", secret: SecretString("s3cr=t&x"), method: method)
    }

    @Test(
        "authorization_code: grant_type, code, redirect_uri and code_verifier, then the client's authentication",
        arguments: ClientAuthMethod.allCases)
    func authorizationCode(_ method: ClientAuthMethod) throws {
        let transport = ScriptedTransport([.token("at", refreshToken: "rt")])
        let exchange = try endpoint(transport).authorizationCode(
            "4/0Ab+c/d", redirectURI: Self.redirectURI, verifier: SecretString(Self.verifier), client: Self.client(method))
        #expect(exchange.grant.refreshToken?.value == "rt")
        let request = try #require(transport.requests.first)
        #expect(request.url == Self.url)
        let standard = ["grant_type", "code", "redirect_uri", "code_verifier"]
        #expect(request.field("grant_type") == "authorization_code")
        #expect(request.field("code") == "4/0Ab+c/d")
        #expect(request.field("redirect_uri") == Self.redirectURI)
        #expect(request.field("code_verifier") == Self.verifier)
        switch method {
        case .clientSecretBasic:
            #expect(request.form.map(\.0) == standard)
            #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "cli:ent", secret: "s3cr=t&x"))
        case .clientSecretPost:
            #expect(request.form.map(\.0) == standard + ["client_id", "client_secret"])
            #expect(request.field("client_id") == "cli:ent")
            #expect(request.field("client_secret") == "s3cr=t&x")
            #expect(request.header("Authorization") == nil)
        case .none:
            #expect(request.form.map(\.0) == standard + ["client_id"])
            #expect(request.field("client_id") == "cli:ent")
            #expect(request.header("Authorization") == nil)
            #expect(!request.bodyText.contains("s3cr"))
        }
        #expect(!request.url.contains("code"))
    }

    @Test("refresh: slow_down is transient, keeping its Retry-After")
    func refreshSlowDown() {
        let transport = ScriptedTransport([.json(400, #"{"error":"slow_down"}"#, headers: [("Retry-After", "7")])])
        let error = #expect(throws: TokenEndpointError.self) {
            try endpoint(transport).refresh(SecretString("rt"), client: Self.client(.none))
        }
        guard case .transient(let reason, let retryAfter)? = error else {
            Issue.record("expected transient, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("slow_down"))
        #expect(retryAfter == 7)
    }

    @Test("client_credentials: slow_down is transient too (no person is waiting)")
    func clientCredentialsSlowDown() {
        let transport = ScriptedTransport([.oauthError("slow_down")])
        let error = #expect(throws: TokenEndpointError.self) {
            try endpoint(transport).clientCredentials(scopes: ["a"], client: Self.client(.none))
        }
        #expect(error?.isTransient == true)
    }

    @Test("exchange, deviceCode and authorizationCode keep slow_down as it is, for the device poll loop")
    func slowDownKept() {
        let client = Self.client(.none)
        let answer = ScriptedTransport.Step.json(400, #"{"error":"slow_down"}"#, headers: [("Retry-After", "3")])
        #expect(throws: TokenEndpointError.slowDown(retryAfter: 3)) {
            try endpoint(ScriptedTransport([answer])).exchange([("grant_type", "x")], client: client)
        }
        #expect(throws: TokenEndpointError.slowDown(retryAfter: 3)) {
            try endpoint(ScriptedTransport([answer])).deviceCode(SecretString("dc"), client: client)
        }
        #expect(throws: TokenEndpointError.slowDown(retryAfter: 3)) {
            try endpoint(ScriptedTransport([answer])).authorizationCode(
                "c", redirectURI: Self.redirectURI, verifier: SecretString(Self.verifier), client: client)
        }
    }

    @Test("deviceCode: authorization_pending comes back as such")
    func devicePending() {
        #expect(throws: TokenEndpointError.authorizationPending) {
            try endpoint(ScriptedTransport([.oauthError("authorization_pending")])).deviceCode(
                SecretString("dc"), client: Self.client(.none))
        }
    }

    @Test("the device code and the verifier are never in the URL")
    func secretsNotInURL() throws {
        let transport = ScriptedTransport([.token("at"), .token("at")])
        _ = try endpoint(transport).deviceCode(SecretString("dc-SECRET"), client: Self.client(.none))
        _ = try endpoint(transport).authorizationCode(
            "code-SECRET", redirectURI: Self.redirectURI, verifier: SecretString(Self.verifier), client: Self.client(.none))
        for request in transport.requests {
            #expect(request.url == Self.url)
        }
        #expect(transport.requests.first?.field("device_code") == "dc-SECRET")
    }
}
