// `tokenrun login` against the real Authlib provider, with the scripted
// browser of TestSupport playing the person at the browser.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A sandbox whose demo profile logs in through the provider's real endpoints.
final class LoginSetup: @unchecked Sendable {
    let e: EndToEnd
    var box: CLISandbox { e.box }
    var provider: TestProvider { e.provider }

    /// `client` lines go into [oauth]; `top` lines before it. With `tls` the token, device and
    /// revocation endpoints are the provider's https ones (the scripted browser speaks plain http,
    /// so the authorization endpoint stays there).
    init(
        client: String = "client_id = \"tokenrun-public\"", top: String = "", scopes: String = "[\"api.read\", \"offline_access\"]",
        tls: TestCA.Leaf? = nil
    ) throws {
        e = try EndToEnd(tls: tls)
        let url = e.provider.url
        let api = e.provider.tlsURLs.first ?? url
        e.box.writeProfile(
            "demo",
            """
            description = "login demo"
            \(top)
            [oauth]
            token_endpoint = "\(api)/oauth/token"
            authorization_endpoint = "\(url)/oauth/authorize"
            device_authorization_endpoint = "\(api)/oauth/device"
            revocation_endpoint = "\(api)/oauth/revoke"
            \(client)
            scopes = \(scopes)
            [env]
            TOKEN = "{{access_token}}"
            """)
    }

    /// Starts `tokenrun login -p demo --no-browser [extra]`.
    func startLogin(_ extra: [String] = [], environment: [String: String] = [:]) -> RunningProcess {
        box.start(["login", "-p", "demo", "--no-browser"] + extra, environment: environment)
    }

    /// A whole browser login; returns tokenrun's result and the page the browser showed.
    func browserLogin(_ extra: [String] = [], environment: [String: String] = [:]) throws -> (CLIResult, LoopbackHTTP.Response?) {
        let process = startLogin(extra, environment: environment)
        let url = try #require(ScriptedBrowser.authorizationURL(from: process), "no URL: \(process.stderrSoFar)")
        let location = try #require(ScriptedBrowser.consent(url))
        let page = ScriptedBrowser.deliver(location)
        return (process.wait(), page)
    }

    /// The user code printed by a running device login.
    func userCode(of process: RunningProcess) throws -> String {
        let text = try #require(process.waitForStderr { $0.contains("enter the code: ") }, "\(process.stderrSoFar)")
        let line = try #require(text.split(separator: "\n").first { $0.contains("enter the code: ") })
        return String(line.split(separator: " ").last!)
    }

    func status() -> String { box.run(["status", "-p", "demo"]).stdout }
}

@Suite("end to end: login with a browser (authorization code + PKCE)")
struct BrowserLoginTests {
    @Test("PKCE login end to end: the URL carries state and an S256 challenge, the tab says done, then run calls the API")
    func pkceLogin() throws {
        let s = try LoginSetup()
        let process = s.startLogin()
        let url = try #require(ScriptedBrowser.authorizationURL(from: process))
        #expect(ScriptedBrowser.parameter("code_challenge_method", in: url) == "S256")
        #expect(ScriptedBrowser.parameter("code_challenge", in: url)?.count == 43)
        #expect((ScriptedBrowser.parameter("state", in: url)?.count ?? 0) >= 16)
        #expect(ScriptedBrowser.parameter("scope", in: url) == "api.read offline_access")
        let redirect = try #require(ScriptedBrowser.parameter("redirect_uri", in: url))
        #expect(redirect.hasPrefix("http://127.0.0.1:"))
        let location = try #require(ScriptedBrowser.consent(url))
        #expect(location.hasPrefix(redirect))
        let page = try #require(ScriptedBrowser.deliver(location))
        #expect(page.status == 200)
        #expect(page.body.contains("You can close this tab"))
        let result = process.wait()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("logged in to demo"))
        let stats = try s.provider.stats()
        #expect(stats.last_token_request?.grant_type == "authorization_code")
        #expect(stats.last_token_request?.auth_method == "none")
        #expect(s.status().contains("connected"))
        #expect(s.e.audit.contains("\"event\":\"login\""))

        let run = s.e.launch()
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stdout.contains("\"user\": \"alice\""))
    }

    @Test("a confidential client logs in with its secret (client_secret_basic) and PKCE")
    func confidentialClient() throws {
        let s = try LoginSetup(client: "client_id = \"tokenrun-test\"\nclient_secret = \"test-secret\"")
        let (result, page) = try s.browserLogin()
        #expect(result.status == 0, "\(result.all)")
        #expect(page?.status == 200)
        #expect(try s.provider.stats().last_token_request?.auth_method == "client_secret_basic")
        #expect(!result.all.contains("test-secret"))
    }

    @Test("a redirect with the wrong state is refused: exit 77, no token request, nothing stored")
    func wrongState() throws {
        let s = try LoginSetup()
        let process = s.startLogin()
        let url = try #require(ScriptedBrowser.authorizationURL(from: process))
        let location = try #require(ScriptedBrowser.consent(url))
        let page = ScriptedBrowser.deliver(ScriptedBrowser.replacing("state", with: "forged-state", in: location))
        #expect(page?.status == 400)
        #expect(page?.body.contains("Login refused") == true)
        let result = process.wait()
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("state does not match"))
        #expect(try s.provider.stats().token_requests == 0)
        #expect(s.status().contains("not_logged_in"))
    }

    @Test("a used authorization code is rejected by the server and reported as such (exit 77)")
    func codeReuse() throws {
        let s = try LoginSetup()
        let first = s.startLogin()
        let firstURL = try #require(ScriptedBrowser.authorizationURL(from: first))
        let firstLocation = try #require(ScriptedBrowser.consent(firstURL))
        _ = ScriptedBrowser.deliver(firstLocation)
        #expect(first.wait().status == 0)

        // A second login receives the first login's (spent) code with its own state.
        let second = s.startLogin(["--force"])
        let secondURL = try #require(ScriptedBrowser.authorizationURL(from: second))
        let oldCode = try #require(ScriptedBrowser.parameter("code", in: firstLocation))
        let secondLocation = try #require(ScriptedBrowser.consent(secondURL))
        let page = ScriptedBrowser.deliver(ScriptedBrowser.replacing("code", with: oldCode, in: secondLocation))
        #expect(page?.status == 400)
        let result = second.wait()
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("rejected the authorization code (invalid_grant"))
        #expect(result.stderr.contains("a code works once"))
    }

    @Test("denied consent ends the login with access_denied explained (exit 77)")
    func deniedConsent() throws {
        let s = try LoginSetup()
        let process = s.startLogin()
        let url = try #require(ScriptedBrowser.authorizationURL(from: process))
        let location = try #require(ScriptedBrowser.consent(url, deny: true))
        #expect(ScriptedBrowser.parameter("error", in: location) == "access_denied")
        let page = ScriptedBrowser.deliver(location)
        #expect(page?.status == 400)
        let result = process.wait()
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("consent was refused in the browser (access_denied)"))
        #expect(s.status().contains("not_logged_in"))
    }

    @Test("no browser coming back: the login times out with a clear message (exit 77)")
    func timeout() throws {
        let s = try LoginSetup()
        let result = s.box.run(["login", "-p", "demo", "--no-browser", "--timeout", "1s"])
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("no answer came back from the browser within 1s"))
    }

    @Test("a fixed redirect_port is used, and a busy one is reported (exit 77)")
    func fixedPort() throws {
        let listener = try LoopbackPort()
        let s = try LoginSetup(client: "client_id = \"tokenrun-public\"\nredirect_port = \(listener.port)")
        let result = s.box.run(["login", "-p", "demo", "--no-browser", "--timeout", "1s"])
        #expect(result.status == 77)
        #expect(result.stderr.contains("port \(listener.port) on 127.0.0.1 is in use"))
    }

    @Test("a login answered without a refresh token is an error naming the fix; nothing is stored (exit 78)")
    func noRefreshToken() throws {
        let s = try LoginSetup()
        try s.provider.fault(
            #"{"kind":"json","body":"{\"access_token\":\"at-without-rt\",\"token_type\":\"Bearer\",\"expires_in\":3600}"}"#)
        let (result, page) = try s.browserLogin()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("returned no refresh token"))
        #expect(result.stderr.contains("offline_access"))
        #expect(page?.status == 400)
        #expect(!result.all.contains("at-without-rt"))
        #expect(s.status().contains("not_logged_in"))
    }

    @Test("login on a connected profile says so and stops; --force replaces the credential")
    func alreadyConnected() throws {
        let s = try LoginSetup()
        #expect(try s.browserLogin().0.status == 0)
        let before = try s.provider.stats().token_requests
        let again = s.box.run(["login", "-p", "demo", "--no-browser", "--timeout", "1s"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("already logged in"))
        #expect(again.stderr.contains("--force"))
        #expect(try s.provider.stats().token_requests == before)
        let (forced, _) = try s.browserLogin(["--force"])
        #expect(forced.status == 0, "\(forced.all)")
        #expect(try s.provider.stats().token_requests == before + 1)
    }

    @Test("scopes added to the profile after login: status says a new login is needed, and login goes ahead without --force")
    func scopesGrown() throws {
        let s = try LoginSetup()
        #expect(try s.browserLogin().0.status == 0)
        let url = s.provider.url
        s.box.writeProfile(
            "demo",
            """
            [oauth]
            token_endpoint = "\(url)/oauth/token"
            authorization_endpoint = "\(url)/oauth/authorize"
            client_id = "tokenrun-public"
            scopes = ["api.read", "api.write", "offline_access"]
            """)
        let status = s.status()
        #expect(status.contains("new login"), "\(status)")
        #expect(status.contains("api.write"))
        let json = s.box.run(["status", "-p", "demo", "--json"]).stdout
        #expect(json.contains("\"missing_scopes\" : [\n      \"api.write\""), "\(json)")
        let (result, _) = try s.browserLogin()
        #expect(result.status == 0, "\(result.all)")
        #expect(!s.status().contains("new login"))
    }
}

/// A port held open by the test, so that tokenrun finds it busy.
final class LoopbackPort {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

@Suite("end to end: device login, client credentials and API keys")
struct DeviceLoginTests {
    @Test("device flow approved: the code is shown, polling waits, then run calls the API")
    func approved() throws {
        let s = try LoginSetup()
        let process = s.box.start(["login", "-p", "demo", "--device"])
        let code = try s.userCode(of: process)
        #expect(process.stderrSoFar.contains("\(s.provider.url)/device"))
        try s.provider.decideDevice(userCode: code)
        let result = process.wait()
        #expect(result.status == 0, "\(result.all)")
        #expect(try s.provider.stats().device_authorizations == 1)
        #expect(s.e.launch().status == 0)
    }

    @Test("device flow is the default for a profile with grant_type = \"device_code\"")
    func defaultForDeviceProfiles() throws {
        let s = try LoginSetup(client: "client_id = \"tokenrun-public\"\ngrant_type = \"device_code\"")
        let process = s.box.start(["login", "-p", "demo"])
        try s.provider.decideDevice(userCode: try s.userCode(of: process))
        #expect(process.wait().status == 0)
    }

    @Test("device flow denied: stops with access_denied explained (exit 77)")
    func denied() throws {
        let s = try LoginSetup()
        let process = s.box.start(["login", "-p", "demo", "--device"])
        try s.provider.decideDevice(userCode: try s.userCode(of: process), approve: false)
        let result = process.wait()
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("refused on the verification page (access_denied)"))
        #expect(s.status().contains("not_logged_in"))
    }

    @Test("device flow expired at the server (expired_token): stops cleanly (exit 77)")
    func expiredAtServer() throws {
        let s = try LoginSetup()
        try s.provider.fault(#"{"kind":"error","error":"expired_token"}"#)
        let result = s.box.run(["login", "-p", "demo", "--device"])
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("device code expired"))
    }

    @Test("device code lifetime runs out locally: polling stops (exit 77)")
    func expiredLocally() throws {
        let s = try LoginSetup()
        try s.provider.config(#"{"device_expires_in": 2}"#)
        let result = s.box.run(["login", "-p", "demo", "--device"])
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("device code expired"))
    }

    @Test("slow_down: the poll interval grows by 5 s, and the login still completes")
    func slowDown() throws {
        let s = try LoginSetup()
        try s.provider.fault(#"{"kind":"error","error":"slow_down"}"#)
        let process = s.box.start(["login", "-p", "demo", "--device"])
        let code = try s.userCode(of: process)
        #expect(process.waitForStderr { $0.contains("poll less often; polling every 6 s") } != nil, "\(process.stderrSoFar)")
        try s.provider.decideDevice(userCode: code)
        let result = process.wait()
        #expect(result.status == 0, "\(result.all)")
    }

    @Test("client credentials: login fetches a token without a person; an expired one is fetched again")
    func clientCredentials() throws {
        let s = try LoginSetup(
            client: "client_id = \"tokenrun-test\"\nclient_secret = \"test-secret\"\ngrant_type = \"client_credentials\"",
            scopes: "[\"api.read\"]")
        let login = s.box.run(["login", "-p", "demo"])
        #expect(login.status == 0, "\(login.all)")
        #expect(try s.provider.stats().last_token_request?.grant_type == "client_credentials")
        #expect(s.box.run(["login", "-p", "demo"]).stdout.contains("already logged in"))
        let run = s.e.launch()
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stdout.contains("\"user\": null"))
        // Tokens that die at once are fetched again on the next launch, with no refresh token.
        try s.provider.config(#"{"access_token_lifetime": 1}"#)
        #expect(s.box.run(["login", "-p", "demo", "--force"]).status == 0)
        sleep(2)
        let before = try s.provider.stats().token_requests
        let again = s.e.launch()
        #expect(again.status == 0, "\(again.all)")
        let stats = try s.provider.stats()
        #expect(stats.token_requests == before + 1)
        #expect(stats.last_token_request?.grant_type == "client_credentials")
    }

    @Test("API key: login reads it from stdin, seals it, run injects it, nothing is refreshed, status says api key")
    func apiKey() throws {
        let e = try EndToEnd()
        e.box.writeProfile(
            "key",
            """
            kind = "api_key"
            [env]
            SERVICE_KEY = "{{access_token}}"
            """)
        let login = e.box.run(["login", "-p", "key"], stdin: "sk-test-4f9a2b\n")
        #expect(login.status == 0, "\(login.all)")
        #expect(!login.all.contains("sk-test-4f9a2b"))
        #expect(!(e.box.read(e.box.vaultPath) ?? "sk-test-4f9a2b").contains("sk-test-4f9a2b"))
        let run = e.box.run(["-p", "key", "--", "/bin/sh", "-c", "test \"$SERVICE_KEY\" = sk-test-4f9a2b"])
        #expect(run.status == 0, "\(run.all)")
        #expect(e.box.run(["get", "-p", "key"]).stdout == "sk-test-4f9a2b\n")
        #expect(try e.provider.stats().token_requests == 0)
        let status = e.box.run(["status", "-p", "key"]).stdout
        #expect(status.contains("api key"), "\(status)")
        let empty = e.box.run(["login", "-p", "key", "--force"], stdin: "\n")
        #expect(empty.status == 64)
    }
}
