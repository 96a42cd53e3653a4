import Synchronization
import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

/// A monotonic clock that moves on a fixed step at every reading, so a login's
/// deadline passes after a known number of readings, without waiting.
private final class SteppingClock: Sendable {
    private let ms = Mutex<Int64>(5_000_000)
    let step: Int64

    init(step: Int64) { self.step = step }

    var read: @Sendable () -> Int64 {
        { [self] in
            ms.withLock {
                $0 += step
                return $0
            }
        }
    }
}

/// `Login.authorizationCode` with a real loopback listener, a socket client as
/// the browser and a scripted token endpoint.
@Suite("login: the authorization code grant through the loopback redirect")
struct AuthorizationCodeLoginTests {
    static let tokenEndpoint = "https://auth.example.test/oauth/token"

    struct Outcome {
        let result: Result<TokenExchange, any Error>
        let authorizationURL: String?
        /// What the browser was answered, nil when it sent nothing.
        let browserSaw: String?
        let redirectURI: String
        let tokenRequests: [ScriptedTransport.Recorded]

        var error: TokenrunError? {
            if case .failure(let error) = result { return error as? TokenrunError }
            return nil
        }
    }

    /// Runs one login; once the URL is announced, the "browser" requests `target(state)`.
    func login(
        _ steps: [ScriptedTransport.Step], host: String = "127.0.0.1", tokenEndpoint: String = Self.tokenEndpoint,
        target: (@Sendable (String) -> String)?
    ) throws -> Outcome {
        let profile = Profile.make("acme") {
            $0.tokenEndpoint = tokenEndpoint
            $0.authorizationEndpoint = "https://auth.example.test/oauth/authorize"
            $0.clientID = "tokenrun-cli"
            $0.scopes = ["openid", "offline_access"]
        }
        let transport = ScriptedTransport(steps)
        var login = Login(
            profile: profile, client: ClientCredentials(clientID: "tokenrun-cli", secret: nil, method: nil), transport: transport)
        login.clock = { 1_700_000_000 }
        if target == nil { login.monotonicMs = SteppingClock(step: 60_000).read }
        let pkce = try PKCE.generate()
        let listener = try LoopbackRedirect()
        let port = listener.port
        var url: String?
        var browser: Background<String>?
        let result = Result {
            try login.authorizationCode(listener: listener, redirectHost: host, pkce: pkce, timeoutSeconds: 10) { event in
                guard case .authorizationURL(let announced) = event else { return }
                url = announced
                if let target { browser = Background { try LoopbackClient.get(port: port, target(pkce.state)) } }
            }
        }
        return Outcome(
            result: result, authorizationURL: url, browserSaw: try browser?.value(), redirectURI: listener.redirectURI(host: host),
            tokenRequests: transport.requests)
    }

    @Test("the code from the redirect is redeemed with the same redirect_uri and the PKCE verifier; the browser sees success")
    func success() throws {
        let outcome = try login([.token("at-new", refreshToken: "rt-new")]) { "/?code=c0de%2Fx&state=\($0)" }
        let exchange = try outcome.result.get()
        #expect(exchange.grant.refreshToken?.value == "rt-new")
        let url = try #require(outcome.authorizationURL)
        let query = FormEncoding.decode(String(url.split(separator: "?", maxSplits: 1)[1]))
        #expect(query.first { $0.0 == "redirect_uri" }?.1 == outcome.redirectURI)
        let request = try #require(outcome.tokenRequests.first)
        #expect(outcome.tokenRequests.count == 1)
        #expect(request.form.map(\.0) == ["grant_type", "code", "redirect_uri", "code_verifier", "client_id"])
        #expect(request.field("grant_type") == "authorization_code")
        #expect(request.field("code") == "c0de/x")
        #expect(request.field("redirect_uri") == outcome.redirectURI)
        #expect(request.field("code_verifier")?.count == 43)
        #expect(query.first { $0.0 == "code_challenge" }?.1 == PKCE.challenge(for: request.field("code_verifier") ?? ""))
        #expect(outcome.browserSaw?.hasPrefix("HTTP/1.1 200 ") == true)
        #expect(outcome.browserSaw?.contains("Logged in") == true)
    }

    @Test("redirect_host = localhost: the redirect URI uses localhost in both requests")
    func localhost() throws {
        let outcome = try login([.token("at-new", refreshToken: "rt-new")], host: "localhost") { "/?code=abc&state=\($0)" }
        _ = try outcome.result.get()
        #expect(outcome.redirectURI.hasPrefix("http://localhost:"))
        #expect(outcome.authorizationURL?.contains("redirect_uri=http%3A%2F%2Flocalhost%3A") == true)
        #expect(outcome.tokenRequests.first?.field("redirect_uri") == outcome.redirectURI)
    }

    @Test("a redirect with another state is refused: nothing is redeemed and the browser is told")
    func stateMismatch() throws {
        let outcome = try login([]) { _ in "/?code=abc&state=forged" }
        guard case .loginFailed(_, let reason, _)? = outcome.error else {
            Issue.record("expected loginFailed, got \(outcome.result)")
            return
        }
        #expect(reason.contains("state"))
        #expect(outcome.tokenRequests.isEmpty)
        #expect(outcome.browserSaw?.hasPrefix("HTTP/1.1 400 ") == true)
        #expect(outcome.browserSaw?.contains("Login refused") == true)
    }

    @Test("a redirect without state is refused like a wrong one")
    func stateMissing() throws {
        let outcome = try login([]) { _ in "/?code=abc" }
        guard case .loginFailed(_, let reason, _)? = outcome.error else {
            Issue.record("expected loginFailed, got \(outcome.result)")
            return
        }
        #expect(reason.contains("state"))
        #expect(outcome.tokenRequests.isEmpty)
    }

    @Test("error=access_denied on the redirect: consent refused (77), nothing redeemed, the browser is told")
    func consentRefused() throws {
        let outcome = try login([]) { "/?error=access_denied&error_description=cancelled&state=\($0)" }
        let error = try #require(outcome.error)
        guard case .loginFailed(_, let reason, _) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(reason.contains("access_denied"))
        #expect(reason.contains("cancelled"))
        #expect(error.exitCode == 77)
        #expect(outcome.tokenRequests.isEmpty)
        #expect(outcome.browserSaw?.hasPrefix("HTTP/1.1 400 ") == true)
    }

    @Test("invalid_grant when redeeming: the code was rejected (explained), and the browser sees the failure")
    func codeRejected() throws {
        let outcome = try login([.oauthError("invalid_grant", description: "Bad code")]) { "/?code=abc&state=\($0)" }
        guard case .loginFailed(_, let reason, _)? = outcome.error else {
            Issue.record("expected loginFailed, got \(outcome.result)")
            return
        }
        #expect(reason.contains("authorization code"))
        #expect(reason.contains("Bad code"))
        #expect(outcome.browserSaw?.hasPrefix("HTTP/1.1 400 ") == true)
        #expect(outcome.browserSaw?.contains("Login failed") == true)
    }

    @Test("a login that brings no refresh token fails with the provider's fix, and the browser sees the failure")
    func noRefreshToken() throws {
        let outcome = try login([.token("at-new")], tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token") {
            "/?code=abc&state=\($0)"
        }
        guard case .noRefreshToken(_, let fix)? = outcome.error else {
            Issue.record("expected noRefreshToken, got \(outcome.result)")
            return
        }
        #expect(fix.contains("offline_access"))
        #expect(outcome.browserSaw?.hasPrefix("HTTP/1.1 400 ") == true)
    }

    @Test("no redirect before the timeout: login failed, saying nothing came back from the browser")
    func timeout() throws {
        let outcome = try login([], target: nil)
        guard case .loginFailed(_, let reason, let hint)? = outcome.error else {
            Issue.record("expected loginFailed, got \(outcome.result)")
            return
        }
        #expect(reason.contains("no answer came back from the browser"))
        #expect(hint?.contains("--timeout") == true)
        #expect(outcome.authorizationURL != nil)
        #expect(outcome.tokenRequests.isEmpty)
    }
}
