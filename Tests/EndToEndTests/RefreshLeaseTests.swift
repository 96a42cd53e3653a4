// The refresh lease: a refresh holds its credential's lease, not the vault,
// across the token request, so a slow provider stalls nothing but the
// launches that need that same credential; those wait, bounded, and take its
// result. The provider's fault queue makes one refresh slow (delay) or never
// answer (hang); ordering, not timing, is asserted: the other launch must be
// done while the slow refresh is still in flight.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: refresh leases")
struct RefreshLeaseTests {
    /// A second profile, "other", at the same provider, with its own grant and a fresh token.
    static func addFreshOther(_ e: EndToEnd) throws {
        e.box.writeProfile(
            "other",
            """
            [oauth]
            token_endpoint = "\(e.provider.tokenEndpoint)"
            client_id = "tokenrun-test"
            client_secret = "test-secret"
            scopes = ["api.read", "offline_access"]
            [env]
            OTHER_TOKEN = "{{access_token}}"
            """)
        let seed = try e.provider.seed()
        let imported = e.box.run(["import", "-p", "other", "--refresh-token-stdin"], stdin: seed.refresh_token + "\n")
        precondition(imported.status == 0, imported.all)
        let first = e.box.run(["get", "-p", "other"])
        precondition(first.status == 0, first.all)
    }

    /// Waits until the provider has received `count` token requests in all.
    static func waitForTokenRequests(_ e: EndToEnd, _ count: Int) throws {
        for _ in 0..<400 {
            if try e.provider.stats().token_requests >= count { return }
            usleep(25_000)
        }
        Issue.record("the provider never saw token request \(count)")
    }

    /// Queues `fault`, starts `get -p demo` and returns once its token request is at the provider.
    static func refreshInFlight(_ e: EndToEnd, fault: String, environment: [String: String] = [:]) throws -> RunningProcess {
        let before = try e.provider.stats().token_requests
        try e.provider.fault(fault)
        let process = e.box.start(["get", "-p", "demo"], environment: environment)
        try waitForTokenRequests(e, before + 1)
        return process
    }

    @Test("regression: while one profile refreshes through an 8 s token endpoint, a fresh profile's get and run finish at once")
    func slowRefreshStallsNoOtherProfile() throws {
        let e = try EndToEnd()
        try e.login()
        try Self.addFreshOther(e)
        let before = try e.provider.stats().token_requests
        let slow = try Self.refreshInFlight(e, fault: #"{"kind":"delay","seconds":8,"count":1}"#)

        let get = e.box.run(["get", "-p", "other"])
        let run = e.box.run(["-p", "other", "--", "/bin/sh", "-c", "test -n \"$OTHER_TOKEN\""])
        // Both ended while demo's refresh was still waiting for its answer.
        #expect(slow.poll() == nil, "the slow refresh ended before the other launches: they were not shown to be independent")
        #expect(get.status == 0, "\(get.all)")
        #expect(!get.stdout.isEmpty)
        #expect(run.status == 0, "\(run.all)")
        let done = slow.wait()
        #expect(done.status == 0, "\(done.all)")
        #expect(try e.provider.stats().token_requests == before + 1)
    }

    @Test("a launch that needs the credential being refreshed waits for that refresh and uses its token, with one request")
    func waiterTakesTheHoldersToken() throws {
        let e = try EndToEnd()
        try e.login()
        let first = try Self.refreshInFlight(e, fault: #"{"kind":"delay","seconds":2,"count":1}"#)
        let second = e.box.run(["get", "-p", "demo"])
        let firstResult = first.wait()
        #expect(firstResult.status == 0, "\(firstResult.all)")
        #expect(second.status == 0, "\(second.all)")
        #expect(second.stdout == firstResult.stdout)
        let stats = try e.provider.stats()
        #expect(stats.token_requests == 1)
        #expect(stats.reuse_events == 0)
    }

    @Test("the lease of a tokenrun SIGKILLed mid-refresh is free at once: the next launch refreshes instead of waiting")
    func killedHolderReleasesTheLease() throws {
        let e = try EndToEnd()
        try e.login()
        // The holder's request never gets an answer; a waiter would wait over a minute and then exit 75.
        let slow = ["TOKENRUN_HTTP_TIMEOUT": "60"]
        let holder = try Self.refreshInFlight(e, fault: #"{"kind":"hang","count":1}"#, environment: slow)
        #expect(access(e.box.vaultPath + ".leases/demo.lock", F_OK) == 0)
        holder.signal(SIGKILL)
        #expect(holder.wait().status != 0)
        let next = e.box.run(["get", "-p", "demo"], environment: slow)
        #expect(next.status == 0, "\(next.all)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("a waiter gives up after the HTTP timeout plus the retry budget: exit 75 naming the refreshing process")
    func boundedWait() throws {
        let e = try EndToEnd()
        try e.login()
        let holder = try Self.refreshInFlight(
            e, fault: #"{"kind":"hang","count":1}"#, environment: ["TOKENRUN_HTTP_TIMEOUT": "60"])
        let waiter = e.box.run(["get", "-p", "demo"], environment: ["TOKENRUN_HTTP_TIMEOUT": "1"])
        #expect(holder.poll() == nil)
        #expect(waiter.status == 75, "\(waiter.all)")
        #expect(waiter.stderr.contains("another tokenrun (process \(holder.pid)) has been refreshing \"demo\""), "\(waiter.stderr)")
        #expect(waiter.stderr.contains("retry later"))
        // The waiter sent nothing itself.
        #expect(try e.provider.stats().token_requests == 1)
        holder.signal(SIGKILL)
        _ = holder.wait()
    }

    @Test("a holder's transient failure stands for its waiters: one round of retries, not one per launch")
    func holdersFailureIsShared() throws {
        let e = try EndToEnd()
        try e.login()
        // Every attempt of the first launch's refresh (4, over about 3.5 s) gets a 503.
        let first = try Self.refreshInFlight(e, fault: #"{"kind":"status","status":503,"count":4}"#)
        let second = e.box.run(["get", "-p", "demo"])
        let firstResult = first.wait()
        #expect(firstResult.status == 75, "\(firstResult.all)")
        #expect(second.status == 75, "\(second.all)")
        #expect(second.stderr.contains("another tokenrun's refresh just failed"), "\(second.stderr)")
        // The first launch's attempts only: the waiter took its outcome and sent nothing.
        #expect(try e.provider.stats().token_requests == 4)
    }

    @Test("a rotated refresh token whose vault write fails twice is reported as exactly that (78), and nothing else is lost")
    func rotatedTokenNotSaved() throws {
        let e = try EndToEnd()
        try e.login()
        let launch = try Self.refreshInFlight(e, fault: #"{"kind":"delay","seconds":2,"count":1}"#)
        // A directory where the write's temporary file goes: every write fails, even as root.
        e.box.write("data/tokenrun/vault.tmp/keep", "x")
        let result = launch.wait()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("the provider rotated the refresh token of \"demo\", and the new one could not be saved"))
        #expect(result.stderr.contains("tokenrun: hint: fix what stops the vault from being written"))
        #expect(result.stdout.isEmpty, "no token is printed when it could not be kept")
        _ = system("rm -rf '\(e.box.vaultPath).tmp'")
        // The vault was left as it was: readable, with the old (now rotated-away) refresh token.
        let status = e.box.run(["status", "-p", "demo"])
        #expect(status.status == 0, "\(status.all)")
    }

    @Test("--refresh while another --refresh of the same credential is in flight takes that refresh's token: one request")
    func forcedRefreshesShareOneRequest() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.box.run(["get", "-p", "demo"]).status == 0)
        let before = try e.provider.stats().token_requests
        let faults = #"{"kind":"delay","seconds":2,"count":1}"#
        try e.provider.fault(faults)
        let first = e.box.start(["get", "-p", "demo", "--refresh"])
        try Self.waitForTokenRequests(e, before + 1)
        let second = e.box.run(["get", "-p", "demo", "--refresh"])
        let firstResult = first.wait()
        #expect(firstResult.status == 0, "\(firstResult.all)")
        #expect(second.status == 0, "\(second.all)")
        #expect(second.stdout == firstResult.stdout)
        #expect(try e.provider.stats().token_requests == before + 1)
    }
}
