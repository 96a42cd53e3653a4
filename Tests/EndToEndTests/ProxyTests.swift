// tokenrun reaching the provider through a real proxy (tinyproxy, TestProxy),
// chosen as curl chooses it: https_proxy / HTTPS_PROXY, http_proxy (lower case
// only), all_proxy / ALL_PROXY, no_proxy / NO_PROXY, or [network] proxy in
// config.toml. The proxy's log shows each tunnel asked for.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: proxies")
struct ProxyTests {
    let ca: TestCA

    init() throws { ca = try TestCA.shared() }

    /// A demo profile with its token endpoint over https (or plain http), and a grant whose access token is dead.
    func makeDemo(tls: Bool = true) throws -> EndToEnd {
        let e = try EndToEnd(tls: tls ? ca.good : nil)
        try e.login()
        return e
    }

    /// The port of the demo profile's token endpoint, as a CONNECT to it names it.
    func port(of e: EndToEnd) -> Int {
        let authority = e.tokenEndpoint.split(separator: "/")[1]
        return Int(authority.split(separator: ":").last!)!
    }

    // MARK: the test infrastructure itself

    @Test("infrastructure: tinyproxy tunnels curl to the https provider and logs it; refuseConnect answers 403; basicAuth wants a password")
    func infrastructure() throws {
        let e = try EndToEnd(tls: ca.good)
        let metadata = e.provider.tlsURLs[0] + "/.well-known/oauth-authorization-server"
        let proxy = try TestProxy()
        let through = e.box.run(["-sS", "--cacert", ca.caFile, "-x", proxy.url, metadata], program: "/usr/bin/curl")
        #expect(through.status == 0, "\(through.all)")
        #expect(through.stdout.contains("\"token_endpoint\""))
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")

        let refusing = try TestProxy(refuseConnect: true)
        let refused = e.box.run(["-sS", "--cacert", ca.caFile, "-x", refusing.url, metadata], program: "/usr/bin/curl")
        #expect(refused.status == 56, "\(refused.all)")  // CURLE_RECV_ERROR: the proxy refused the tunnel
        #expect(refused.stderr.contains("403"), "\(refused.stderr)")

        let guarded = try TestProxy(basicAuth: (user: "proxyuser", password: "proxy-pw-7"))
        let anonymous = e.box.run(["-sS", "--cacert", ca.caFile, "-x", guarded.url, metadata], program: "/usr/bin/curl")
        #expect(anonymous.stderr.contains("407"), "\(anonymous.all)")
        let authenticated = e.box.run(
            ["-sS", "--cacert", ca.caFile, "-x", guarded.url(user: "proxyuser", password: "proxy-pw-7"), metadata], program: "/usr/bin/curl"
        )
        #expect(authenticated.status == 0, "\(authenticated.all)")

        let dead = TestProxy.deadAddress()
        let down = e.box.run(["-sS", "--cacert", ca.caFile, "-x", "http://" + dead, metadata], program: "/usr/bin/curl")
        #expect(down.status == 7, "\(down.all)")  // CURLE_COULDNT_CONNECT
    }

    // MARK: which variable names the proxy

    @Test("HTTPS_PROXY: the refresh over https goes through the proxy (a CONNECT to the provider) and succeeds")
    func httpsProxyUpperCase() throws {
        let e = try makeDemo()
        let proxy = try TestProxy()
        let result = e.launch(environment: ["HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": ca.caFile])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("https_proxy (lower case): the refresh over https goes through the proxy and succeeds")
    func httpsProxyLowerCase() throws {
        let e = try makeDemo()
        let proxy = try TestProxy()
        let result = e.launch(environment: ["https_proxy": proxy.url, "SSL_CERT_FILE": ca.caFile])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
    }

    @Test("http_proxy (lower case) with an http endpoint: tokenrun asks the proxy for a tunnel (CONNECT) and succeeds")
    func httpProxyLowerCase() throws {
        let e = try makeDemo(tls: false)
        let proxy = try TestProxy()
        let result = e.launch(["--no-call"], environment: ["http_proxy": proxy.url])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
        // A tunnel, never a request the proxy could answer itself.
        #expect(!proxy.requests.contains { $0.hasPrefix("POST ") }, "\(proxy.requests)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("HTTP_PROXY (upper case) is ignored, as curl ignores it: the proxy sees nothing, exit 0; http_proxy naming it is used")
    func httpProxyUpperCaseIgnored() throws {
        let e = try makeDemo(tls: false)
        let proxy = try TestProxy()
        // --no-call: the child's urllib would itself take HTTP_PROXY.
        let result = e.launch(["--no-call"], environment: ["HTTP_PROXY": proxy.url])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.requests.isEmpty, "\(proxy.log)")
        #expect(try e.provider.stats().refresh_success == 1)
        // The same proxy in the lower-case variable is taken: the one above was ignored, not unusable.
        let again = e.launch(["--no-call"], flags: ["run", "--refresh"], environment: ["http_proxy": proxy.url])
        #expect(again.status == 0, "\(again.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
    }

    @Test("ALL_PROXY: with no scheme's own variable set, the refresh goes through it")
    func allProxy() throws {
        let e = try makeDemo()
        let proxy = try TestProxy()
        let result = e.launch(environment: ["ALL_PROXY": proxy.url, "SSL_CERT_FILE": ca.caFile])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
    }

    /// How the demo profile reaches its token endpoint: over https with HTTPS_PROXY (and the test CA
    /// trusted), or over plain http with http_proxy. The plain route isolates the proxy from TLS.
    enum Route: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case https
        case http

        var testDescription: String { self == .https ? "https endpoint" : "http endpoint" }
    }

    /// The environment that sends `route`'s requests to `proxy`.
    func environment(_ route: Route, proxy: String) -> [String: String] {
        route == .https ? ["HTTPS_PROXY": proxy, "SSL_CERT_FILE": ca.caFile] : ["http_proxy": proxy]
    }

    /// The child makes no call of its own: its urllib would take http_proxy too.
    func launch(_ e: EndToEnd, flags: [String] = [], environment: [String: String]) -> CLIResult {
        e.launch(["--no-call"], flags: flags, environment: environment)
    }

    @Test("NO_PROXY=127.0.0.1 bypasses the proxy variable: with the proxy down the refresh still goes direct", arguments: Route.allCases)
    func noProxy(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let dead = "http://" + TestProxy.deadAddress()
        let through = launch(e, environment: environment(route, proxy: dead))
        #expect(through.status == 75, "the dead proxy is in effect without NO_PROXY: \(through.all)")
        let result = launch(e, environment: environment(route, proxy: dead).merging(["NO_PROXY": "127.0.0.1"]) { $1 })
        #expect(result.status == 0, "\(result.all)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    // MARK: a proxy that fails

    @Test(
        "a proxy that is down: exit 75, the error names the proxy 127.0.0.1:PORT; nothing reaches the provider", arguments: Route.allCases)
    func deadProxy(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let dead = TestProxy.deadAddress()
        let result = launch(e, environment: environment(route, proxy: "http://" + dead))
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains(dead), "\(result.stderr)")
        #expect(result.stderr.contains("proxy"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("expired"))
    }

    @Test(
        "a proxy URL with a password is shown with ***: the password is in neither stderr, the audit trail nor tokenrun log",
        arguments: Route.allCases)
    func deadProxyCredentialsHidden(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let dead = TestProxy.deadAddress()
        let result = launch(e, environment: environment(route, proxy: "http://user:s3cret@" + dead))
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains(dead), "\(result.stderr)")
        #expect(result.stderr.contains("***"), "\(result.stderr)")
        #expect(!result.all.contains("s3cret"))
        #expect(!e.audit.contains("s3cret"))
        let log = e.box.run(["log", "-n", "50"])
        #expect(log.status == 0, "\(log.all)")
        #expect(!log.all.contains("s3cret"))
        let json = e.box.run(["log", "-n", "50", "--json"])
        #expect(!json.all.contains("s3cret"))
    }

    @Test("a proxy refusing the tunnel (HTTP 403): exit 75, the error names the proxy and the refusal", arguments: Route.allCases)
    func refusedConnect(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let proxy = try TestProxy(refuseConnect: true)
        let result = launch(e, environment: environment(route, proxy: proxy.url))
        #expect(result.status == 75, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) >= 1, "\(proxy.log)")
        #expect(result.stderr.contains("127.0.0.1:\(proxy.port)"), "\(result.stderr)")
        #expect(result.stderr.contains("403"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test(
        "a proxy that wants a password gets it from the proxy URL: the refresh succeeds, the password is never shown",
        arguments: Route.allCases)
    func authenticatedProxy(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let proxy = try TestProxy(basicAuth: (user: "proxyuser", password: "proxy-pw-7"))
        let result = launch(e, environment: environment(route, proxy: proxy.url(user: "proxyuser", password: "proxy-pw-7")))
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) >= 1, "\(proxy.log)")
        #expect(try e.provider.stats().refresh_success == 1)
        #expect(!result.all.contains("proxy-pw-7"))
        #expect(!e.audit.contains("proxy-pw-7"))
    }

    @Test(
        "a proxy that refuses the password (HTTP 407, or tinyproxy's 401): exit 78 saying how to give it, asked once, never shown; nothing is sent",
        arguments: Route.allCases)
    func wrongProxyPassword(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let proxy = try TestProxy(basicAuth: (user: "proxyuser", password: "proxy-pw-7"))
        let result = launch(e, environment: environment(route, proxy: proxy.url(user: "proxyuser", password: "wrong-pw-9")))
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("(HTTP 401)") || result.stderr.contains("(HTTP 407)"), "\(result.stderr)")
        #expect(result.stderr.contains("USER:PASSWORD"), "\(result.stderr)")
        #expect(!result.all.contains("wrong-pw-9"))
        // One attempt: a wrong password sent again and again can lock a directory account.
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    // MARK: config.toml

    @Test("[network] proxy in config.toml is used with no variable set", arguments: Route.allCases)
    func configProxy(route: Route) throws {
        let e = try makeDemo(tls: route == .https)
        let proxy = try TestProxy()
        e.box.write("config/tokenrun/config.toml", "[network]\nproxy = \"\(proxy.url)\"\n")
        let result = launch(e, environment: route == .https ? ["SSL_CERT_FILE": ca.caFile] : [:])
        #expect(result.status == 0, "\(result.all)")
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
    }

    @Test("a proxy password in a config.toml others can read: used, with a warning that says chmod 600 and not the password")
    func readableConfigPassword() throws {
        let e = try makeDemo()
        let proxy = try TestProxy(basicAuth: (user: "proxyuser", password: "proxy-pw-7"))
        e.box.write("config/tokenrun/config.toml", "[network]\nproxy = \"\(proxy.url(user: "proxyuser", password: "proxy-pw-7"))\"\n")
        #expect(chmod(e.box.root + "/config/tokenrun/config.toml", 0o644) == 0)
        let result = launch(e, environment: ["SSL_CERT_FILE": ca.caFile])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("other users can read it"), "\(result.stderr)")
        #expect(result.stderr.contains("chmod 600"), "\(result.stderr)")
        #expect(!result.all.contains("proxy-pw-7"))
        #expect(proxy.connects(toPort: port(of: e)) == 1, "\(proxy.log)")
    }

    @Test("[network] ca_file in config.toml makes the https endpoint trusted with no variable set")
    func configCAFile() throws {
        let e = try makeDemo()
        e.box.write("config/tokenrun/config.toml", "[network]\nca_file = \"\(ca.caFile)\"\n")
        let result = e.launch()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("\"user\": \"alice\""), "\(result.stdout)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("a config.toml with a mistake in [network] is not obeyed: the refresh goes on without it and stderr says why")
    func brokenConfig() throws {
        let e = try makeDemo()
        let dead = "http://" + TestProxy.deadAddress()
        e.box.write("config/tokenrun/config.toml", "[network]\nproxy = \"\(dead)\"\nproxi = \"typo\"\n")
        let result = e.launch(environment: ["SSL_CERT_FILE": ca.caFile])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("config.toml is not used"), "\(result.stderr)")
        #expect(result.stderr.contains("network.proxi"), "\(result.stderr)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    // MARK: doctor

    @Test("doctor with HTTPS_PROXY: the endpoint checks name the proxy in effect and SSL_CERT_FILE as the source of trusted CAs")
    func doctorShowsProxyAndTrust() throws {
        let e = try makeDemo()
        let proxy = try TestProxy()
        let result = e.box.run(["doctor", "-p", "demo"], environment: ["HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": ca.caFile])
        #expect(DoctorEndToEndTests.status(result, "endpoint.demo.reachable") == "pass", "\(result.all)")
        let endpointText = Self.endpointRows(result.stdout)
        #expect(endpointText.contains(proxy.url), "\(endpointText)")
        #expect(endpointText.contains("SSL_CERT_FILE"), "\(endpointText)")
        #expect(proxy.connects(toPort: port(of: e)) >= 1, "\(proxy.log)")
    }

    /// The lines of doctor's text output about the demo profile's endpoint: its rows and their fixes.
    static func endpointRows(_ stdout: String) -> String {
        var rows: [Substring] = []
        var inside = false
        for line in stdout.split(separator: "\n") {
            if line.hasPrefix(" ") {
                if inside { rows.append(line) }
                continue
            }
            inside = line.split(separator: " ").dropFirst().first?.hasPrefix("endpoint.demo.") == true
            if inside { rows.append(line) }
        }
        return rows.joined(separator: "\n")
    }
}
