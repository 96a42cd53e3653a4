import FoundationEssentials
import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("token endpoint: the refresh request")
struct TokenEndpointRequestTests {
    static let url = "https://auth.example.test/oauth/token"
    /// A refresh token with characters that need form-encoding.
    static let refreshToken = "1//0g-rt+abc/def=="

    func endpoint(_ transport: ScriptedTransport, clock: Int64 = 1_700_000_000) -> TokenEndpoint {
        var endpoint = TokenEndpoint(url: Self.url, transport: transport)
        endpoint.clock = { clock }
        return endpoint
    }

    /// Sends one refresh answered by a token response and returns what was sent.
    func send(_ client: ClientCredentials) throws -> ScriptedTransport.Recorded {
        let transport = ScriptedTransport([.token("at-new")])
        _ = try endpoint(transport).refresh(SecretString(Self.refreshToken), client: client)
        return try #require(transport.requests.first)
    }

    @Test("client_secret_basic: Authorization is Basic base64(urlencode(id):urlencode(secret)) and the body holds no secret")
    func clientSecretBasic() throws {
        let request = try send(ClientCredentials(clientID: "my client:id", secret: SecretString("p@ss w+rd/="), method: .clientSecretBasic))
        // base64("my%20client%3Aid:p%40ss%20w%2Brd%2F%3D"), computed by hand.
        #expect(request.header("Authorization") == "Basic bXklMjBjbGllbnQlM0FpZDpwJTQwc3MlMjB3JTJCcmQlMkYlM0Q=")
        #expect(request.form.map(\.0) == ["grant_type", "refresh_token"])
        #expect(request.field("grant_type") == "refresh_token")
        #expect(request.field("refresh_token") == Self.refreshToken)
        #expect(!request.bodyText.contains("p%40ss"))
        #expect(request.field("client_secret") == nil)
        #expect(request.field("client_id") == nil)
    }

    @Test("a secret without a method means client_secret_basic; no secret means none")
    func defaultMethod() {
        #expect(ClientCredentials(clientID: "c", secret: SecretString("s"), method: nil).method == .clientSecretBasic)
        #expect(ClientCredentials(clientID: "c", secret: nil, method: nil).method == ClientAuthMethod.none)
        #expect(ClientCredentials(clientID: "c", secret: SecretString("s"), method: .clientSecretPost).method == .clientSecretPost)
    }

    @Test("client_secret_post: client_id and client_secret in the body, no Authorization header")
    func clientSecretPost() throws {
        let request = try send(ClientCredentials(clientID: "cli&ent", secret: SecretString("s3cr=t&x"), method: .clientSecretPost))
        #expect(request.header("Authorization") == nil)
        #expect(request.form.map(\.0) == ["grant_type", "refresh_token", "client_id", "client_secret"])
        #expect(request.field("client_id") == "cli&ent")
        #expect(request.field("client_secret") == "s3cr=t&x")
        #expect(request.field("refresh_token") == Self.refreshToken)
    }

    @Test("none (public client): client_id in the body only")
    func publicClient() throws {
        let request = try send(ClientCredentials(clientID: "public-app", secret: nil, method: nil))
        #expect(request.header("Authorization") == nil)
        #expect(request.form.map(\.0) == ["grant_type", "refresh_token", "client_id"])
        #expect(request.field("client_id") == "public-app")
    }

    @Test("none ignores a configured secret: it is never sent")
    func publicClientWithSecret() throws {
        let request = try send(
            ClientCredentials(clientID: "public-app", secret: SecretString("unused-secret"), method: ClientAuthMethod.none))
        #expect(request.header("Authorization") == nil)
        #expect(!request.bodyText.contains("unused-secret"))
    }

    @Test("the request is a form POST asking for JSON, and the refresh token is never in the URL", arguments: ClientAuthMethod.allCases)
    func requestShape(method: ClientAuthMethod) throws {
        let request = try send(ClientCredentials(clientID: "c", secret: SecretString("s"), method: method))
        #expect(request.url == Self.url)
        #expect(!request.url.contains("refresh_token"))
        #expect(!request.url.contains("1//0g"))
        #expect(!request.url.contains(FormEncoding.escape(Self.refreshToken)))
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(request.header("Accept") == "application/json")
        #expect(request.bodyText.contains("refresh_token=1%2F%2F0g-rt%2Babc%2Fdef%3D%3D"))
    }

    @Test("client_secret_basic without a secret fails as invalid_client before any request")
    func basicWithoutSecret() {
        let transport = ScriptedTransport([])
        let client = ClientCredentials(clientID: "c", secret: nil, method: .clientSecretBasic)
        let error = #expect(throws: TokenEndpointError.self) {
            try endpoint(transport).refresh(SecretString("rt"), client: client)
        }
        #expect(error?.errorClass == "invalid_client")
        #expect(transport.requestCount == 0)
    }

    @Test("the endpoint's limits reach the transport")
    func limitsPassed() throws {
        let transport = ScriptedTransport([.token("at")])
        var endpoint = endpoint(transport)
        endpoint.limits.maxResponseBytes = 1234
        _ = try endpoint.refresh(SecretString("rt"), client: ClientCredentials(clientID: "c", secret: nil, method: nil))
        #expect(transport.requests.first?.limits.maxResponseBytes == 1234)
    }

    @Test("a successful exchange returns the grant and the arrival time from the injected clock")
    func exchange() throws {
        let transport = ScriptedTransport([.token("at-new", expiresIn: 1800, refreshToken: "rt-new")])
        let exchange = try endpoint(transport, clock: 1_234_567).refresh(
            SecretString("rt"), client: ClientCredentials(clientID: "c", secret: nil, method: nil))
        #expect(exchange.grant.accessToken.value == "at-new")
        #expect(exchange.grant.refreshToken?.value == "rt-new")
        #expect(exchange.grant.expiresIn == 1800)
        #expect(exchange.receivedAt == 1_234_567)
        #expect(exchange.clockSkew == nil)
    }

    struct SkewCase: Sendable, CustomTestStringConvertible {
        let date: String
        let localClock: Int64
        let skew: Int64?
        var testDescription: String { "Date: \(date) at local \(localClock)" }
    }

    @Test(
        "the Date header gives the clock skew (server minus local)",
        arguments: [
            // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
            SkewCase(date: "Sun, 06 Nov 1994 08:49:37 GMT", localClock: 784_111_777, skew: 0),
            SkewCase(date: "Sun, 06 Nov 1994 08:49:37 GMT", localClock: 784_111_777 - 300, skew: 300),
            SkewCase(date: "Sun, 06 Nov 1994 08:49:37 GMT", localClock: 784_111_777 + 75, skew: -75),
            SkewCase(date: "Sunday, 06-Nov-94 08:49:37 GMT", localClock: 784_111_777, skew: nil),
            SkewCase(date: "not a date", localClock: 784_111_777, skew: nil),
        ])
    func clockSkew(_ c: SkewCase) throws {
        let transport = ScriptedTransport([.token("at", headers: [("Date", c.date)])])
        let exchange = try endpoint(transport, clock: c.localClock).refresh(
            SecretString("rt"), client: ClientCredentials(clientID: "c", secret: nil, method: nil))
        #expect(exchange.clockSkew == c.skew)
        #expect(exchange.receivedAt == c.localClock)
    }

    @Test(
        "transport errors are transient (a too-large answer is unreadable), and name the endpoint",
        arguments: [
            TransportError.connectFailed("connection refused"), .timedOut("30 s"), .failed("TLS handshake failed"),
            .responseTooLarge(limit: 256 << 10),
        ])
    func transportErrors(_ failure: TransportError) {
        let transport = ScriptedTransport([.fail(failure)])
        do {
            _ = try endpoint(transport).refresh(
                SecretString("rt-secret"), client: ClientCredentials(clientID: "c", secret: nil, method: nil))
            Issue.record("expected an error")
        } catch {
            #expect(error.isTransient)
            #expect(!error.refreshTokenIsDead)
            #expect(!error.explanation.contains("rt-secret"))
            switch (failure, error) {
            case (.responseTooLarge, .unreadable(let reason)):
                #expect(reason.contains("256 KiB"))
            case (.responseTooLarge, _):
                Issue.record("expected unreadable, got \(error)")
            case (.connectFailed, .transient(let reason, let retryAfter)):
                #expect(reason.contains(Self.url))
                #expect(retryAfter == nil)
            case (.timedOut, .uncertain(let reason)), (.failed, .uncertain(let reason)):
                // The request may have arrived: not to be resent.
                #expect(reason.contains(Self.url))
            default:
                Issue.record("expected transient, got \(error)")
            }
        }
    }
}
