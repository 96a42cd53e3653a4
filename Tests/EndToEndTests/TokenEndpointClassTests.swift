// Every kind of token endpoint answer lands in its class (docs/running.md): the
// exit status, the credential's state and last error, and the audit record.
import TestSupport
import Testing

@Suite("end to end: token endpoint answers and their classes")
struct TokenEndpointClassTests {
    static let refusals: [(status: Int, fault: String, says: String)] = [
        // glewlwyd's answer to a disabled refresh token.
        (400, #"{"kind":"status","status":400,"body":""}"#, "an empty body"),
        (400, #"{"kind":"status","status":400,"body":"<html><body>Bad Request</body></html>","content_type":"text/html"}"#, "HTML page"),
        (403, #"{"kind":"json","status":403,"body":"{\"message\":\"refresh token disabled\"}"}"#, "JSON without an OAuth error code"),
    ]

    @Test(
        "regression: a 4xx without an OAuth error code marks the credential invalid and exits 77 naming the HTTP status",
        arguments: refusals)
    func refusalWithoutCode(_ c: (status: Int, fault: String, says: String)) throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(c.fault)
        let result = e.launch()
        #expect(result.status == 77, "\(result.all)")
        #expect(result.stderr.contains("refresh token of \"demo\" is dead"), "\(result.stderr)")
        #expect(result.stderr.contains("HTTP \(c.status)"), "\(result.stderr)")
        #expect(result.stderr.contains(c.says), "\(result.stderr)")
        #expect(result.stderr.contains("tokenrun: hint: tokenrun login -p demo"))

        let status = e.box.run(["status", "-p", "demo"])
        #expect(status.stdout.contains("invalid"), "\(status.all)")
        #expect(status.stdout.contains("HTTP \(c.status)"), "\(status.all)")
        let json = e.box.run(["status", "-p", "demo", "--json"])
        #expect(json.stdout.contains("HTTP \(c.status)"), "\(json.all)")
        let doctor = e.box.run(["doctor", "-p", "demo"])
        #expect(doctor.all.contains("HTTP \(c.status)"), "\(doctor.all)")

        #expect(e.audit.contains(#""error_class":"refused""#), "\(e.audit)")
        #expect(e.audit.contains(#""http_status":\#(c.status)"#), "\(e.audit)")
        let verify = e.box.run(["log", "--verify"])
        #expect(verify.status == 0, "\(verify.all)")

        // Dead is dead: the next launch fails at once, without asking again.
        let before = try e.provider.stats().token_requests
        #expect(e.launch().status == 77)
        #expect(try e.provider.stats().token_requests == before)
    }

    @Test(
        "408 and 429 without a body stay transient: exit 75 and state expired, or a warning while the token is valid",
        arguments: [408, 429])
    func busyStaysTransient(_ code: Int) throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"status","status":\#(code),"body":"","count":10}"#)
        let expired = e.launch()
        #expect(expired.status == 75, "\(expired.all)")
        #expect(expired.stderr.contains("retry later"))
        let status = e.box.run(["status", "-p", "demo"])
        #expect(status.stdout.contains("expired"), "\(status.all)")
        #expect(status.stdout.contains("HTTP \(code)"), "\(status.all)")
        #expect(e.audit.contains(#""http_status":\#(code)"#))

        try e.provider.fault(#"{"clear":true}"#)
        #expect(e.launch().status == 0)
        try e.provider.fault(#"{"kind":"status","status":\#(code),"body":"","count":10}"#)
        let stale = e.launch(flags: ["run", "--refresh"])
        #expect(stale.status == 0, "\(stale.all)")
        #expect(stale.stderr.contains("tokenrun: warning: could not refresh demo"), "\(stale.stderr)")
        #expect(stale.stderr.contains("HTTP \(code)"))
    }

    @Test("a 401 with an empty body is a client rejection: exit 78, and the credential is not marked invalid")
    func bareUnauthorized() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"status","status":401,"body":""}"#)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("client \"tokenrun-test\""), "\(result.stderr)")
        #expect(!e.box.run(["status", "-p", "demo"]).stdout.contains("invalid "))
        #expect(e.audit.contains(#""http_status":401"#))
        #expect(e.launch().status == 0)
    }

    @Test("invalid_grant from a provider whose Date is 10 minutes ahead says the local clock is off and to sync it")
    func skewOnFailingAnswer() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"error","error":"invalid_grant","date_offset":600}"#)
        let result = e.launch()
        #expect(result.status == 77, "\(result.all)")
        let said = result.stderr
        #expect(said.contains("the local clock is"), "\(said)")
        #expect(said.contains(" s behind the provider's"), "\(said)")
        #expect(said.contains("sync the clock (timedatectl set-ntp true)"), "\(said)")
        // The seconds are the failing answer's: 600, give or take the second boundaries.
        let seconds = said.firstMatch(of: /the local clock is (\d+) s/).flatMap { Int($0.1) }
        #expect(seconds.map { (598...602).contains($0) } == true, "\(said)")
    }

    @Test("invalid_grant with a correct Date gives no clock hint, even after a skewed success")
    func noSkewOnFailingAnswer() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.config(#"{"clock_skew":600}"#)
        let skewed = e.launch()
        #expect(skewed.status == 0, "\(skewed.all)")
        #expect(skewed.stderr.contains("clock"))
        try e.provider.config(#"{"clock_skew":0}"#)
        try e.provider.fault(#"{"kind":"error","error":"invalid_grant"}"#)
        let result = e.launch(flags: ["run", "--refresh"])
        #expect(result.status == 77, "\(result.all)")
        #expect(!result.stderr.contains("clock"), "\(result.stderr)")
    }

    @Test("an invalid_scope refusal names the scopes that were asked for")
    func invalidScopeNamesScopes() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"error","error":"invalid_scope","error_description":"scope not allowed"}"#)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("invalid_scope"), "\(result.stderr)")
        #expect(result.stderr.contains("the scopes asked for: api.read offline_access"), "\(result.stderr)")
    }

    static let corruptions: [(fault: String, member: String)] = [
        (#"{"kind":"corrupt","member":"access_token","value":""}"#, "access_token"),
        (#"{"kind":"corrupt","member":"access_token","remove":true}"#, "access_token"),
        (#"{"kind":"corrupt","member":"expires_in","value":"soon"}"#, "expires_in"),
        (#"{"kind":"corrupt","member":"token_type","value":1}"#, "token_type"),
    ]

    @Test(
        "regression: a 200 with a new refresh token but a bad member keeps the new refresh token; the next launch refreshes with it and no reuse happens",
        arguments: corruptions)
    func rotationKeptFromBadAnswer(_ c: (fault: String, member: String)) throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(c.fault)
        let bad = e.launch()
        #expect(bad.status == 75, "\(bad.all)")
        #expect(bad.stderr.contains(c.member), "\(bad.stderr)")
        let status = e.box.run(["status", "-p", "demo"])
        #expect(status.stdout.contains("expired"), "\(status.all)")
        #expect(status.stdout.contains(c.member), "\(status.all)")
        #expect(e.audit.contains(#""rotated":true"#), "\(e.audit)")
        #expect(try e.provider.stats().refresh_success == 1)

        let next = e.launch()
        #expect(next.status == 0, "\(next.all)")
        let stats = try e.provider.stats()
        #expect(stats.reuse_events == 0)
        #expect(stats.refresh_success == 2)
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("connected"))
    }
}
