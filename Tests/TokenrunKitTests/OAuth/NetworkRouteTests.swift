import FoundationEssentials
import Testing
@testable import TokenrunOAuth
@testable import TokenrunProfiles
import TokenrunSupport

@Suite("network route: the proxy as curl chooses it, and the CAs trusted")
struct NetworkRouteTests {
    func route(_ url: String, _ environment: [String: String], network: NetworkConfig = NetworkConfig(), caFile: String? = nil)
        -> NetworkRoute
    {
        NetworkRoute.resolve(url: url, network: network, profileCAFile: caFile, environment: environment)
    }

    let https = "https://login.example.com/oauth/token"
    let http = "http://127.0.0.1:8080/oauth/token"

    @Test("https: https_proxy before HTTPS_PROXY before all_proxy before ALL_PROXY")
    func httpsOrder() {
        let all = ["https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:2", "all_proxy": "http://c:3", "ALL_PROXY": "http://d:4"]
        #expect(route(https, all).proxy == "http://a:1")
        #expect(route(https, all).proxySource == "https_proxy")
        #expect(route(https, all.filter { $0.key != "https_proxy" }).proxy == "http://b:2")
        #expect(route(https, ["all_proxy": "http://c:3", "ALL_PROXY": "http://d:4"]).proxy == "http://c:3")
        #expect(route(https, ["ALL_PROXY": "http://d:4"]).proxy == "http://d:4")
        #expect(route(https, [:]).proxy == nil)
        #expect(route(https, [:]).proxyPhrase == "direct (no proxy variable is set)")
    }

    @Test("http: only the lower-case http_proxy, never HTTP_PROXY; https_proxy does not apply")
    func httpLowerCaseOnly() {
        #expect(route(http, ["http_proxy": "http://p:1"]).proxy == "http://p:1")
        #expect(route(http, ["HTTP_PROXY": "http://p:1"]).proxy == nil)
        #expect(route(http, ["https_proxy": "http://p:1"]).proxy == nil)
        #expect(route(http, ["HTTP_PROXY": "http://p:1", "ALL_PROXY": "http://q:2"]).proxy == "http://q:2")
        #expect(route(https, ["http_proxy": "http://p:1"]).proxy == nil)
    }

    @Test("a variable set but empty counts as unset, as curl_getenv has it: the search goes on")
    func emptyIsUnset() {
        let chosen = route(https, ["https_proxy": "", "ALL_PROXY": "http://q:2"])
        #expect(chosen.proxy == "http://q:2")
        #expect(chosen.proxySource == "ALL_PROXY")
        #expect(route(https, ["https_proxy": "", "HTTPS_PROXY": ""]).proxy == nil)
    }

    @Test("[network] proxy in config.toml overrides the variables; \"\" there means direct")
    func configured() {
        let environment = ["HTTPS_PROXY": "http://env:1"]
        let chosen = route(https, environment, network: NetworkConfig(proxy: "http://conf:2"))
        #expect(chosen.proxy == "http://conf:2")
        #expect(chosen.proxySource == "[network] proxy in config.toml")
        #expect(route(https, environment, network: NetworkConfig(proxy: "")).proxy == nil)
        #expect(route(http, [:], network: NetworkConfig(proxy: "http://conf:2")).proxy == "http://conf:2")
    }

    @Test("no_proxy before NO_PROXY; * matches everything; it applies to the configured proxy too")
    func noProxyVariables() {
        let proxy = ["HTTPS_PROXY": "http://p:1"]
        #expect(route(https, proxy.merging(["NO_PROXY": "*"]) { $1 }).proxy == nil)
        #expect(route(https, proxy.merging(["NO_PROXY": "*"]) { $1 }).proxySource == "NO_PROXY matches login.example.com")
        // The lower-case list is the one used when both are set.
        #expect(route(https, proxy.merging(["no_proxy": "other.org", "NO_PROXY": "*"]) { $1 }).proxy == "http://p:1")
        #expect(route(https, ["no_proxy": "example.com"], network: NetworkConfig(proxy: "http://conf:2")).proxy == nil)
    }

    @Test(
        "no_proxy entries: names match themselves and their subdomains, a leading dot is the same, lists split on commas and spaces",
        arguments: [
            ("example.com", "login.example.com", true), (".example.com", "login.example.com", true),
            ("example.com", "example.com", true), ("example.com", "badexample.com", false),
            ("login.example.com", "example.com", false), ("EXAMPLE.com", "Login.Example.COM", true),
            ("a.org, example.com", "login.example.com", true), ("a.org b.org", "b.org", true), ("a.org,,", "b.org", false),
            ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1", "127.0.0.2", false), ("10.0.0.0/8", "10.20.30.40", true),
            ("10.0.0.0/8", "11.0.0.1", false), ("192.168.1.0/24", "192.168.1.200", true), ("192.168.1.0/24", "192.168.2.1", false),
            ("::1", "::1", true), ("[::1]", "::1", true), ("localhost,*", "example.com", false), (" * ", "example.com", true),
            ("..example.com", "login.example.com", false), ("fd00::/8", "fd12:3456::1", true), ("fd00::/8", "fe80::1", false),
            ("127.0.0.1", "localhost", false), ("localhost", "localhost", true), ("example.com.", "example.com.", true),
        ])
    func noProxyEntries(list: String, host: String, matches: Bool) {
        #expect(NetworkRoute.noProxyMatches(host: host, list: list) == matches, "\(list) vs \(host)")
    }

    @Test("credentials in a proxy URL are shown as ***, and scrubbed from the helper's words")
    func redaction() {
        #expect(NetworkRoute.redacted("http://user:s3cret@proxy:3128") == "http://***@proxy:3128")
        #expect(NetworkRoute.redacted("http://proxy:3128") == "http://proxy:3128")
        #expect(NetworkRoute.redacted("user:pw@proxy:3128") == "***@proxy:3128")
        #expect(NetworkRoute.redacted("http://u:pa#ss@proxy:3128") == "http://***@proxy:3128")
        #expect(NetworkRoute.redacted("http://u:p/w@proxy:3128") == "http://***@proxy:3128")
        let unencoded = route(https, ["HTTPS_PROXY": "http://u:pa#ss@proxy:3128"])
        #expect(
            unencoded.scrubbed("Unsupported proxy syntax in 'http://u:pa#ss@proxy:3128'")
                == "Unsupported proxy syntax in 'http://***@proxy:3128'")
        let chosen = route(https, ["HTTPS_PROXY": "http://user:s%33cret@proxy:3128"])
        #expect(chosen.shownProxy == "http://***@proxy:3128")
        #expect(chosen.proxyPhrase == "through the proxy http://***@proxy:3128 (HTTPS_PROXY)")
        let scrubbed = chosen.scrubbed("proxy said: user:s%33cret, s3cret, s%33cret")
        #expect(!scrubbed.contains("s3cret") && !scrubbed.contains("s%33cret"), "\(scrubbed)")
    }

    @Test("trust: the profile's ca_file, then [network] ca_file, then SSL_CERT_FILE and SSL_CERT_DIR, then the system's CAs")
    func trustOrder() {
        let environment = ["SSL_CERT_FILE": "/env/ca.pem", "SSL_CERT_DIR": "/env/certs", "HOME": "/home/u"]
        let network = NetworkConfig(caFile: "~/company.pem")
        let profile = route(https, environment, network: network, caFile: "/profile/ca.pem")
        #expect(profile.caFile == "/profile/ca.pem")
        #expect(profile.caDirectory == nil)
        #expect(profile.trustSource == "the profile's ca_file /profile/ca.pem")
        let configured = route(https, environment, network: network)
        #expect(configured.caFile == "/home/u/company.pem")
        #expect(configured.trustSource.contains("[network] ca_file"))
        let variables = route(https, environment)
        #expect(variables.caFile == "/env/ca.pem")
        #expect(variables.caDirectory == "/env/certs")
        #expect(route(https, ["SSL_CERT_DIR": "/env/certs"]).caFile == nil)
        #expect(route(https, ["SSL_CERT_DIR": "/env/certs"]).trustSource.contains("system"))
        let system = route(https, ["SSL_CERT_FILE": ""])
        #expect(system.caFile == nil && system.caDirectory == nil)
        #expect(system.trustSource == "the system's trusted CAs")
    }

    @Test("the request to the helper carries the chosen proxy (\"\" for direct) and CAs")
    func requestFields() throws {
        let request = HTTPRequest(url: https, headers: [], body: [])
        let through = route(https, ["HTTPS_PROXY": "http://p:1", "SSL_CERT_FILE": "/ca.pem"])
        let sent = try JSONObjectReader(try JSONReader.parse(HTTPHelperRequest(request, limits: TransportLimits(), route: through).json))
        #expect(try sent.string("proxy") == "http://p:1")
        #expect(try sent.optionalString("caFile") == "/ca.pem")
        #expect(try sent.optionalInt64("connectTimeout") == 10)
        #expect(try sent.string("url") == https)
        let direct = try JSONObjectReader(
            try JSONReader.parse(HTTPHelperRequest(request, limits: TransportLimits(), route: route(https, [:])).json))
        #expect(try direct.string("proxy") == "")
        #expect(try direct.optionalString("caFile") == nil && direct.optionalString("caDirectory") == nil)
    }

    func answer(_ json: String, proxy: String? = nil) throws -> TransportError? {
        let response = try #require(HTTPHelperResponse(json: Array(json.utf8)))
        let chosen = route(https, proxy.map { ["HTTPS_PROXY": $0] } ?? [:])
        if case .failure(let error) = response.result(url: "https://user@login.example.com:8443/t", route: chosen) { return error }
        return nil
    }

    @Test("the helper's failure kinds decode to their transport errors, naming the host, the proxy and the trust")
    func answers() throws {
        #expect(
            try answer(#"{"error":"certificate","message":"unknown issuer","reason":"unknown issuer"}"#)
                == .certificateRejected(host: "login.example.com:8443", problem: "unknown issuer", trust: "the system's trusted CAs"))
        #expect(
            try answer(#"{"error":"proxy","message":"refused s3cret"}"#, proxy: "http://u:s3cret@p:1")
                == .proxyFailed(proxy: "http://***@p:1 (HTTPS_PROXY)", why: "refused ***"))
        #expect(
            try answer(#"{"error":"proxy_auth","message":"HTTP 407"}"#, proxy: "http://p:1")
                == .proxyAuthentication(proxy: "http://p:1 (HTTPS_PROXY)", why: "HTTP 407"))
        #expect(try answer(#"{"error":"tls","message":"handshake"}"#) == .tlsFailed(host: "login.example.com:8443", why: "handshake"))
        #expect(
            try answer(#"{"error":"ca_file","message":"cannot read"}"#)
                == .caFileUnusable(trust: "the system's trusted CAs", why: "cannot read"))
        #expect(try answer(#"{"error":"connect","message":"refused"}"#) == .connectFailed("refused"))
        #expect(try answer(#"{"error":"timeout","message":"30 s"}"#) == .timedOut("30 s"))
        #expect(try answer(#"{"error":"too_large","message":"1024"}"#) == .responseTooLarge(limit: 1024))
        #expect(try answer(#"{"error":"something new","message":"x"}"#) == .failed("x"))
        #expect(try answer(#"{"status":200,"headers":[],"body":""}"#) == nil)
    }
}

@Suite("the helper protocol, written and read by hand")
struct HelperProtocolTests {
    @Test("a request with headers, a body and odd characters reads back field for field")
    func requestRoundTrip() throws {
        var limits = TransportLimits()
        limits.totalTimeout = 2.5
        let request = HTTPRequest(
            url: "https://a.example/t?x=\"1\"", headers: [("Authorization", "Basic \\ \u{1}"), ("Accept", "application/json")],
            body: Array("grant_type=refresh_token&refresh_token=r\u{0}t".utf8))
        let route = NetworkRoute.resolve(url: request.url, network: NetworkConfig(), profileCAFile: "/ca dir/ca.pem", environment: [:])
        let sent = try JSONObjectReader(try JSONReader.parse(HTTPHelperRequest(request, limits: limits, route: route).json))
        #expect(try sent.string("url") == request.url)
        let headers = try sent.array("headers").map { pair in
            guard case .array(let parts) = pair else { return [String]() }
            return parts.compactMap(\.stringValue)
        }
        #expect(headers == [["Authorization", "Basic \\ \u{1}"], ["Accept", "application/json"]])
        #expect(Data(base64Encoded: try sent.string("body")).map(Array.init) == request.body)
        #expect(sent.members["totalTimeout"] == .number(2.5))
        #expect(try sent.optionalString("caFile") == "/ca dir/ca.pem")
        #expect(try sent.optionalInt64("parent") != nil)
    }

    @Test("an answer that is not the helper's (not JSON, a repeated key, neither status nor error) reads as none")
    func notAnAnswer() {
        #expect(HTTPHelperResponse(json: Array("not json".utf8)) == nil)
        #expect(HTTPHelperResponse(json: Array(#"{"status":200,"status":201}"#.utf8)) == nil)
        #expect(HTTPHelperResponse(json: Array(#"{"message":"x"}"#.utf8)) == nil)
        #expect(HTTPHelperResponse(json: Array(#"{"status":"200"}"#.utf8)) == nil)
        #expect(HTTPHelperResponse(json: Array(#"{"status":200,"headers":[["A","b"]],"body":"eA=="}"#.utf8))?.headers == [["A", "b"]])
    }
}
