import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: provider failures")
struct FailureTests {
    @Test("invalid_grant exits 77 with a re-login hint, then every launch fails fast without a request")
    func invalidGrant() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.revokeUser("alice")
        let first = e.launch()
        #expect(first.status == 77, "\(first.all)")
        #expect(first.stderr.contains("refresh token of \"demo\" is dead"))
        #expect(first.stderr.contains("tokenrun: hint: tokenrun login -p demo"))
        let before = try e.provider.stats().token_requests
        let again = e.launch()
        #expect(again.status == 77)
        #expect(try e.provider.stats().token_requests == before)
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("invalid"))
        // A new credential clears it.
        try e.login()
        #expect(e.launch().status == 0)
    }

    @Test("a rotated-away refresh token presented again is refused by the provider and tokenrun says re-login")
    func staleRefreshToken() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        #expect(e.launch().status == 0)
        // Put the old (rotated) token back, as a restored backup would.
        #expect(e.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        let result = e.launch()
        #expect(result.status == 77)
        #expect(try e.provider.stats().reuse_events == 1)
    }

    @Test("provider down and the token expired: exit 75, state expired")
    func providerDown() throws {
        let e = try EndToEnd()
        try e.login()
        e.provider.stop()
        let result = e.launch()
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains("cannot refresh \"demo\""))
        #expect(result.stderr.contains("retry later"))
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("expired"))
    }

    @Test("provider down but the token still valid: a warning, and the child runs with it")
    func staleButValid() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.launch().status == 0)
        let stopped = e.provider.url
        e.provider.stop()
        let result = e.launch(["--no-call"], flags: ["run", "--refresh"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("tokenrun: warning: could not refresh demo"))
        _ = stopped
    }

    @Test("503 with Retry-After is retried after the delay and then succeeds")
    func retryAfter() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"status","status":503,"retry_after":1,"count":1}"#)
        let result = e.launch()
        #expect(result.status == 0, "\(result.all)")
        let stats = try e.provider.stats()
        #expect(stats.token_requests == 2)
        #expect(stats.refresh_success == 1)
        #expect(e.audit.contains("\"error_class\":\"transient\""))
    }

    @Test("invalid_client exits 78 naming the client id")
    func invalidClient() throws {
        let e = try EndToEnd(oauth: "client_id = \"tokenrun-test\"\nclient_secret = \"wrong-secret\"")
        try e.login()
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("client \"tokenrun-test\""))
        #expect(result.stderr.contains("invalid_client"))
        #expect(!result.all.contains("wrong-secret"))
        #expect(!e.box.run(["status", "-p", "demo"]).stdout.contains("invalid "))
    }

    @Test("an HTML page instead of JSON is named as such, with its content type")
    func htmlBody() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"html","count":10}"#)
        let result = e.launch()
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains("HTML page"))
        #expect(result.stderr.contains("text/html"))
    }

    @Test("regression: SIGTERM during a slow refresh lets it finish and store the rotated token; no reuse, the grant survives")
    func interruptedRefresh() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"delay","seconds":2,"count":1}"#)
        let running = e.box.start(["get", "-p", "demo"])
        usleep(700_000)
        running.signal(SIGTERM)
        let interrupted = running.wait()
        #expect(interrupted.status == 143, "\(interrupted.all)")
        let next = e.box.run(["get", "-p", "demo", "--field", "status"])
        #expect(next.status == 0, "\(next.all)")
        let stats = try e.provider.stats()
        #expect(stats.reuse_events == 0)
        #expect(stats.refresh_requests == 1)
    }

    @Test("a timed-out token request is not resent (it may have rotated the token): one request, exit 75")
    func timeoutNotRetried() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"close","count":1}"#)
        let result = e.launch()
        #expect(result.status == 75, "\(result.all)")
        #expect(try e.provider.stats().token_requests == 1)
        #expect(try e.provider.stats().reuse_events == 0)
    }

    @Test("GitHub's bad_refresh_token means the refresh token is dead: 77")
    func badRefreshToken() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"error","error":"bad_refresh_token","status":200}"#)
        let result = e.launch()
        #expect(result.status == 77, "\(result.all)")
    }

    @Test("a clock skew over 60 s is reported")
    func clockSkew() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.config(#"{"clock_skew":300}"#)
        let result = e.launch()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("clock"))
    }
}
