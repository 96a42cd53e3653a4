import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("login: the device authorization grant")
struct DeviceLoginTests {
    let clock = FakeClock(now: VaultFixture.now)
    static let tokenEndpoint = "https://auth.example.test/oauth/token"
    static let deviceEndpoint = "https://auth.example.test/oauth/device"
    static let publicClient = ClientCredentials(clientID: "tokenrun-cli", secret: nil, method: nil)

    /// The device authorization endpoint's answer.
    static func started(interval: Int = 5, expiresIn: Int = 600) -> ScriptedTransport.Step {
        .json(
            200,
            #"{"device_code":"dc-SECRET","user_code":"WDJB-MJHT","verification_uri":"https://auth.example.test/device","#
                + #""interval":\#(interval),"expires_in":\#(expiresIn)}"#)
    }

    /// What one device login did: its result, events, requests and when each was sent (ms after the first).
    struct Run {
        let result: Result<TokenExchange, any Error>
        let events: [LoginEvent]
        let requests: [ScriptedTransport.Recorded]
        let times: [Int64]

        var error: TokenrunError? {
            if case .failure(let error) = result { return error as? TokenrunError }
            return nil
        }
        var polls: [ScriptedTransport.Recorded] { Array(requests.dropFirst()) }
        /// Seconds after the device authorization request at which each poll was sent.
        var pollTimes: [Int64] { times.dropFirst().map { ($0 - times[0]) / 1000 } }
        var slowDowns: [Int64] { events.compactMap { if case .slowDown(let interval) = $0 { interval } else { nil } } }
        var retries: [String] { events.compactMap { if case .retrying(let reason) = $0 { reason } else { nil } } }
        var countdown: [Int64] { events.compactMap { if case .waiting(let left) = $0 { left } else { nil } } }
    }

    func run(
        _ steps: [ScriptedTransport.Step], tokenEndpoint: String = Self.tokenEndpoint, deviceEndpoint: String? = Self.deviceEndpoint,
        scopes: [String] = ["openid", "offline_access"], client: ClientCredentials = Self.publicClient
    ) -> Run {
        let profile = Profile.make("acme") {
            $0.tokenEndpoint = tokenEndpoint
            $0.deviceAuthorizationEndpoint = deviceEndpoint
            $0.clientID = client.clientID
            $0.scopes = scopes
        }
        let transport = ClockedTransport(ScriptedTransport(steps), clock: clock)
        var login = Login(profile: profile, client: client, transport: transport)
        login.clock = clock.clock
        login.monotonicMs = clock.monotonic
        login.sleep = clock.sleep
        var events: [LoginEvent] = []
        let result = Result { try login.device { events.append($0) } }
        return Run(result: result, events: events, requests: transport.script.requests, times: transport.requestTimes)
    }

    @Test("authorization_pending keeps polling at the interval until the tokens come")
    func pendingThenSuccess() throws {
        let run = run([
            Self.started(), .oauthError("authorization_pending"), .oauthError("authorization_pending"),
            .token("at-new", refreshToken: "rt-new"),
        ])
        let exchange = try run.result.get()
        #expect(exchange.grant.accessToken.value == "at-new")
        #expect(exchange.grant.refreshToken?.value == "rt-new")
        #expect(run.pollTimes == [5, 10, 15])
        #expect(run.slowDowns.isEmpty)
        #expect(run.retries.isEmpty)
        guard case .deviceCode(let authorization)? = run.events.first else {
            Issue.record("the first event should show the user code, got \(String(describing: run.events.first))")
            return
        }
        #expect(authorization.userCode == "WDJB-MJHT")
        #expect(authorization.verificationURI == "https://auth.example.test/device")
    }

    @Test("the countdown starts at the code's lifetime and only goes down; sleeps are at most a second each")
    func countdown() throws {
        let run = run([Self.started(interval: 5, expiresIn: 600), .oauthError("authorization_pending"), .token("at", refreshToken: "rt")])
        _ = try run.result.get()
        #expect(run.countdown.first == 600)
        #expect(run.countdown == run.countdown.sorted(by: >))
        #expect(clock.sleeps.allSatisfy { $0 > 0 && $0 <= 1 })
        #expect(clock.sleeps.reduce(0, +) == 10)
    }

    @Test("slow_down adds 5 s to the interval each time, says so, and the next polls wait that long")
    func slowDown() throws {
        let run = run([
            Self.started(interval: 5), .oauthError("slow_down"), .oauthError("authorization_pending"), .oauthError("slow_down"),
            .token("at", refreshToken: "rt"),
        ])
        _ = try run.result.get()
        #expect(run.slowDowns == [10, 15])
        // Polls 5 s apart, then 10 s apart after the first slow_down, then 15 s.
        #expect(run.pollTimes == [5, 15, 25, 40])
    }

    @Test("access_denied on the verification page: login failed (77) with a --device hint, no more polls")
    func accessDenied() throws {
        let run = run([Self.started(), .oauthError("authorization_pending"), .oauthError("access_denied", description: "user said no")])
        let error = try #require(run.error)
        guard case .loginFailed(let profile, let reason, let hint) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(reason.contains("access_denied"))
        #expect(reason.contains("user said no"))
        #expect(hint?.contains("--device") == true)
        #expect(error.exitCode == 77)
        #expect(run.polls.count == 2)
    }

    @Test("expired_token from the provider: login failed, saying the code expired")
    func expiredToken() throws {
        let run = run([Self.started(), .oauthError("expired_token")])
        let error = try #require(run.error)
        guard case .loginFailed(_, let reason, let hint) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(reason.contains("expired"))
        #expect(hint?.contains("tokenrun login -p acme --device") == true)
        #expect(run.polls.count == 1)
    }

    @Test("once the code's lifetime has passed locally, polling stops without another request")
    func localDeadline() throws {
        // Polls at 5 s and 10 s; the next would be at 15 s, past the 12 s lifetime.
        let run = run([
            Self.started(interval: 5, expiresIn: 12), .oauthError("authorization_pending"), .oauthError("authorization_pending"),
        ])
        let error = try #require(run.error)
        guard case .loginFailed(_, let reason, _) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(reason.contains("expired"))
        #expect(run.pollTimes == [5, 10])
    }

    @Test("transient failures while polling are reported as retrying and polling goes on")
    func transientRetried() throws {
        let run = run([
            Self.started(), .status(503), .fail(.connectFailed("connection refused")), .fail(.timedOut("30 s")),
            .token("at", refreshToken: "rt"),
        ])
        _ = try run.result.get()
        #expect(run.retries.count == 3)
        #expect(run.retries.first?.contains("503") == true)
        #expect(run.retries.dropFirst().first?.contains("connection refused") == true)
        #expect(run.pollTimes == [5, 10, 15, 20])
    }

    @Test("invalid_client while polling: the client is rejected (78), naming the client id")
    func invalidClientPolling() throws {
        let run = run([Self.started(), .oauthError("invalid_client", status: 401, description: "Unknown client")])
        let error = try #require(run.error)
        #expect(error == .clientRejected(profile: "acme", clientID: "tokenrun-cli", detail: "Unknown client"))
        #expect(error.exitCode == 78)
        #expect(run.polls.count == 1)
    }

    @Test("invalid_client from the device authorization endpoint: the client is rejected before any poll")
    func invalidClientStarting() throws {
        let run = run([.oauthError("invalid_client", status: 401)])
        #expect(run.error == .clientRejected(profile: "acme", clientID: "tokenrun-cli", detail: nil))
        #expect(run.requests.count == 1)
        #expect(!run.events.contains { if case .deviceCode = $0 { true } else { false } })
    }

    @Test("an HTML page from the device authorization endpoint: provider unavailable (75)")
    func htmlStarting() throws {
        let page = HTTPResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>Sign in to Wi-Fi</html>".utf8))
        let run = run([.respond(page)])
        let error = try #require(run.error)
        guard case .loginUnavailable(_, let reason) = error else {
            Issue.record("expected loginUnavailable, got \(error)")
            return
        }
        #expect(reason.contains("HTML"))
        #expect(error.exitCode == 75)
        // About a login: nothing in it speaks of a refresh or an expired access token.
        #expect(!error.summary.contains("refresh") && !error.summary.contains("expired"), "\(error.summary)")
    }

    struct MissingRefreshCase: Sendable, CustomTestStringConvertible {
        let tokenEndpoint: String
        let fixMentions: String
        var testDescription: String { "\(tokenEndpoint) → \(fixMentions)" }
    }

    @Test(
        "a token without refresh_token is refused (noRefreshToken) with the provider's fix",
        arguments: [
            MissingRefreshCase(tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token", fixMentions: "offline_access"),
            MissingRefreshCase(tokenEndpoint: "https://oauth2.googleapis.com/token", fixMentions: "access_type=offline"),
            MissingRefreshCase(tokenEndpoint: "https://auth.example.test/oauth/token", fixMentions: "offline_access"),
        ])
    func noRefreshToken(_ c: MissingRefreshCase) throws {
        let run = run([Self.started(), .token("at-new")], tokenEndpoint: c.tokenEndpoint)
        let error = try #require(run.error)
        guard case .noRefreshToken(let profile, let fix) = error else {
            Issue.record("expected noRefreshToken, got \(error)")
            return
        }
        #expect(profile == "acme")
        #expect(fix.contains(c.fixMentions))
        #expect(error.hints.contains(fix))
        #expect(error.exitCode == 78)
    }

    @Test("the poll is grant_type=urn:ietf:params:oauth:grant-type:device_code with the device code, to the token endpoint")
    func pollRequest() throws {
        let run = run([Self.started(), .token("at", refreshToken: "rt")])
        _ = try run.result.get()
        let poll = try #require(run.polls.first)
        #expect(poll.url == Self.tokenEndpoint)
        #expect(poll.form.map(\.0) == ["grant_type", "device_code", "client_id"])
        #expect(poll.field("grant_type") == "urn:ietf:params:oauth:grant-type:device_code")
        #expect(poll.field("device_code") == "dc-SECRET")
        #expect(poll.field("client_id") == "tokenrun-cli")
        #expect(poll.header("Content-Type") == "application/x-www-form-urlencoded")
    }

    @Test(
        "the device authorization request asks for the scopes with the client's authentication",
        arguments: ClientAuthMethod.allCases)
    func startRequest(_ method: ClientAuthMethod) throws {
        let client = ClientCredentials(clientID: "tokenrun-cli", secret: SecretString("s3cret"), method: method)
        let run = run([Self.started(), .token("at", refreshToken: "rt")], client: client)
        _ = try run.result.get()
        for request in run.requests {
            switch method {
            case .clientSecretBasic:
                #expect(request.header("Authorization") == FormEncoding.basicAuthorization(clientID: "tokenrun-cli", secret: "s3cret"))
                #expect(request.field("client_id") == nil)
                #expect(request.field("client_secret") == nil)
            case .clientSecretPost:
                #expect(request.header("Authorization") == nil)
                #expect(request.field("client_id") == "tokenrun-cli")
                #expect(request.field("client_secret") == "s3cret")
            case .none:
                #expect(request.header("Authorization") == nil)
                #expect(request.field("client_id") == "tokenrun-cli")
                #expect(request.field("client_secret") == nil)
            }
        }
        let start = try #require(run.requests.first)
        #expect(start.url == Self.deviceEndpoint)
        #expect(start.form.first?.0 == "scope")
        #expect(start.field("scope") == "openid offline_access")
        #expect(start.field("grant_type") == nil)
    }

    @Test("without scopes the device authorization request has no scope field")
    func startWithoutScopes() throws {
        let run = run([Self.started(), .token("at", refreshToken: "rt")], scopes: [])
        _ = try run.result.get()
        #expect(run.requests.first?.form.map(\.0) == ["client_id"])
    }

    @Test("a profile without device_authorization_endpoint is incomplete, and nothing is sent")
    func missingEndpoint() throws {
        let run = run([], deviceEndpoint: nil)
        guard case .profileIncomplete(let profile, let missing)? = run.error else {
            Issue.record("expected profileIncomplete, got \(run.result)")
            return
        }
        #expect(profile == "acme")
        #expect(missing.contains("device_authorization_endpoint"))
        #expect(run.requests.isEmpty)
    }
}
