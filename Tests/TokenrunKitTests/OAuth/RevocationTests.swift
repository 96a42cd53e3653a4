import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("token revocation (RFC 7009)")
struct RevocationTests {
    static let url = "https://auth.example.test/oauth/revoke"

    func revoke(
        _ step: ScriptedTransport.Step, hint: String = "refresh_token",
        client: ClientCredentials = ClientCredentials(
            clientID: "tokenrun-cli", secret: nil, method: nil)
    ) -> (ScriptedTransport, TokenEndpointError?) {
        let transport = ScriptedTransport([step])
        do {
            try Revocation.revoke(SecretString("rt/SECRET+1"), hint: hint, url: Self.url, client: client, transport: transport)
            return (transport, nil)
        } catch {
            return (transport, error)
        }
    }

    @Test(
        "the request carries token and token_type_hint in the body, with the client's authentication", arguments: ClientAuthMethod.allCases)
    func request(_ method: ClientAuthMethod) throws {
        let client = ClientCredentials(clientID: "tokenrun-cli", secret: SecretString("s3cret"), method: method)
        let (transport, error) = revoke(.status(200), client: client)
        #expect(error == nil)
        let request = try #require(transport.requests.first)
        #expect(request.url == Self.url)
        #expect(request.field("token") == "rt/SECRET+1")
        #expect(request.field("token_type_hint") == "refresh_token")
        #expect(request.form.prefix(2).map(\.0) == ["token", "token_type_hint"])
        #expect(!request.url.contains("SECRET"))
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        switch method {
        case .clientSecretBasic:
            #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "tokenrun-cli", secret: "s3cret"))
            #expect(request.form.count == 2)
        case .clientSecretPost:
            #expect(request.field("client_id") == "tokenrun-cli")
            #expect(request.field("client_secret") == "s3cret")
        case .none:
            #expect(request.field("client_id") == "tokenrun-cli")
            #expect(request.field("client_secret") == nil)
            #expect(request.header("Authorization") == nil)
        }
    }

    @Test("another hint is sent as given")
    func accessTokenHint() throws {
        let (transport, _) = revoke(.status(200), hint: "access_token")
        #expect(transport.requests.first?.field("token_type_hint") == "access_token")
    }

    @Test("HTTP 200, with any body or none, means revoked")
    func ok() {
        #expect(revoke(.status(200)).1 == nil)
        #expect(revoke(.json(200, "{}")).1 == nil)
        #expect(revoke(.respond(HTTPResponse(status: 200, headers: [], body: []))).1 == nil)
    }

    @Test("503, 429 and other 5xx answers are transient", arguments: [503, 429, 500, 502])
    func transient(_ status: Int) {
        guard case .transient(let reason, _)? = revoke(.status(status)).1 else {
            Issue.record("expected transient")
            return
        }
        #expect(reason.contains("HTTP \(status)"))
    }

    @Test("400 unsupported_token_type is that OAuth error")
    func unsupportedTokenType() {
        #expect(
            revoke(.oauthError("unsupported_token_type")).1 == .other(code: "unsupported_token_type", description: nil, status: 400))
    }

    @Test("401 invalid_client is a rejected client")
    func invalidClient() {
        #expect(revoke(.oauthError("invalid_client", status: 401)).1 == .invalidClient(description: nil))
    }

    @Test("an HTML 404 page is a refusal quoted as HTML, never success")
    func html404() {
        let page = HTTPResponse(status: 404, headers: [("Content-Type", "text/html")], body: Array("<html>Not Found</html>".utf8))
        guard case .refused(404, let reason)? = revoke(.respond(page)).1 else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason.contains("HTML"))
    }

    @Test("a connection failure is transient and never quotes the token")
    func connectFailed() {
        let error = revoke(.fail(.connectFailed("connection refused"))).1
        #expect(error?.isTransient == true)
        #expect(error?.explanation.contains("SECRET") == false)
    }
}
