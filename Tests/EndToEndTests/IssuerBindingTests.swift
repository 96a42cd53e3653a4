// A refresh token goes only to the endpoint that issued it: a profile of the
// same name that names another token endpoint or client (from a repository's
// TOKENRUN_PROFILE_PATH, or edited) stops every command with 78 before any
// request. A second real provider plays the other endpoint and counts what
// reaches it.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: credentials bound to their issuer")
struct IssuerBindingTests {
    /// A directory of profiles first on TOKENRUN_PROFILE_PATH holding a "demo" that names `endpoint`.
    static func shadowProfile(
        _ e: EndToEnd, endpoint: String, clientID: String = "tokenrun-test", revocation: String? = nil
    ) -> [String: String] {
        let directory = e.box.root + "/elsewhere"
        mkdir(directory, 0o700)
        e.box.write(
            "elsewhere/demo.toml",
            """
            [oauth]
            token_endpoint = "\(endpoint)"
            revocation_endpoint = "\(revocation ?? endpoint.replacing("/oauth/token", with: "/oauth/revoke"))"
            client_id = "\(clientID)"
            client_secret = "test-secret"
            scopes = ["api.read", "offline_access"]
            [env]
            TOKEN = "{{access_token}}"
            """)
        return ["TOKENRUN_PROFILE_PATH": directory]
    }

    @Test("regression: a profile naming another token endpoint gets 78 from run, get, export and revoke, and no endpoint sees a request")
    func otherEndpointRefused() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let other = try TestProvider(in: e.box)
        let shadow = Self.shadowProfile(e, endpoint: other.tokenEndpoint)
        for command in [["get", "-p", "demo"], ["export", "-p", "demo"], ["-p", "demo", "--", "/bin/true"], ["revoke", "-p", "demo"]] {
            let result = e.box.run(command, environment: shadow)
            #expect(result.status == 78, "\(command): \(result.all)")
            #expect(result.stderr.contains("was issued by \(e.provider.tokenEndpoint)"), "\(result.stderr)")
            #expect(result.stderr.contains("but the profile now names \(other.tokenEndpoint)"), "\(result.stderr)")
            #expect(result.stderr.contains("its refresh token was not sent"))
            #expect(result.stderr.contains("tokenrun: hint: if the change is intended, log in to the new endpoint: tokenrun login -p demo"))
            #expect(!result.all.contains(seed.refresh_token))
        }
        let stats = try other.stats()
        #expect(stats.token_requests == 0)
        #expect(stats.revocation_requests == 0)
        #expect(try e.provider.stats().token_requests == 0)
        // Nothing was deleted or marked: the real profile still works.
        let real = e.launch()
        #expect(real.status == 0, "\(real.all)")
    }

    @Test("a profile naming another client id at the same endpoint gets 78 without a request")
    func otherClientRefused() throws {
        let e = try EndToEnd()
        try e.login()
        let shadow = Self.shadowProfile(e, endpoint: e.provider.tokenEndpoint, clientID: "tokenrun-public")
        let result = e.box.run(["get", "-p", "demo"], environment: shadow)
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("(client \"tokenrun-test\")"), "\(result.stderr)")
        #expect(result.stderr.contains("(client \"tokenrun-public\")"))
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("doctor reports a credential bound to another endpoint as a failed check, and sends the refresh token nowhere")
    func doctorReportsMismatch() throws {
        let e = try EndToEnd()
        try e.login()
        let other = try TestProvider(in: e.box)
        let shadow = Self.shadowProfile(e, endpoint: other.tokenEndpoint)
        let result = e.box.run(["doctor", "-p", "demo", "--json"], environment: shadow)
        #expect(result.status != 0)
        #expect(result.stdout.contains("credential.demo.issuer"), "\(result.stdout)")
        #expect(result.stdout.contains("was issued by \(e.provider.tokenEndpoint)"))
        #expect(try other.stats().refresh_requests == 0)
    }

    @Test("importing a refresh token for the new endpoint binds the credential to it, and refreshes go there")
    func importRebinds() throws {
        let e = try EndToEnd()
        try e.login()
        let other = try TestProvider(in: e.box)
        let shadow = Self.shadowProfile(e, endpoint: other.tokenEndpoint)
        let seed = try other.seed()
        let imported = e.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token, environment: shadow)
        #expect(imported.status == 0, "\(imported.all)")
        let get = e.box.run(["get", "-p", "demo"], environment: shadow)
        #expect(get.status == 0, "\(get.all)")
        #expect(try other.stats().refresh_success == 1)
        // And now the original profile is the one that names another endpoint.
        #expect(e.box.run(["get", "-p", "demo"]).status == 78)
    }

    @Test("revoke refuses a revocation endpoint on another server than the issuer's (78), and sends it nothing")
    func revocationElsewhere() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let other = try TestProvider(in: e.box)
        let shadow = Self.shadowProfile(e, endpoint: e.provider.tokenEndpoint, revocation: other.url + "/oauth/revoke")
        let result = e.box.run(["revoke", "-p", "demo"], environment: shadow)
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("is not on the server that issued its grant"), "\(result.stderr)")
        #expect(!result.all.contains(seed.refresh_token))
        #expect(try other.stats().revocation_requests == 0)
        #expect(e.launch().status == 0, "the credential was kept")
    }
}
