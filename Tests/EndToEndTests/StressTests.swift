// Concurrency at scale. Many `get` and `run` launches at once, for
// a while, against the Authlib provider with refresh-token rotation and reuse
// detection and access tokens that live a few seconds. The same test runs
// short inside `make test` and long in `make stress`, set by:
//
//     TOKENRUN_STRESS_SECONDS   how long new launches keep starting (default 6)
//     TOKENRUN_STRESS_WORKERS   how many launches run at any moment (default 16)
//     TOKENRUN_STRESS_LIFETIME  the access tokens' lifetime in seconds (default 8)
//
// The profile's refresh window is half the lifetime, so a token is refreshed
// exactly when tokenrun's clock shows half its life gone (RefreshPolicy): an
// "expiry" here is one such moment, and the count of refreshes is fixed by
// the lifetime and the duration, not by the number of launches.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: concurrency at scale")
struct StressTests {
    /// One kind of launch, each with a child that calls /api/me with the token it got.
    enum Kind: CaseIterable {
        /// `sh -c 'TOKEN=$(tokenrun get -p demo) … exec child.py'`, as a script would use get.
        case get
        /// `tokenrun -p demo -- child.py`, the token from the environment.
        case runEnvironment
        /// `tokenrun -p demo -- child.py --file-env TOKEN_FILE`, the token from a private file.
        case runFile
    }

    @Test("concurrent get and run launches with short-lived rotating tokens: no reuse, no failure, one refresh per expiry")
    func concurrentLaunches() throws {
        let seconds = environmentInteger("TOKENRUN_STRESS_SECONDS", default: 6)
        let workers = environmentInteger("TOKENRUN_STRESS_WORKERS", default: 16)
        let lifetime = environmentInteger("TOKENRUN_STRESS_LIFETIME", default: 8)
        try #require(lifetime >= 4, "TOKENRUN_STRESS_LIFETIME must be at least 4 seconds")
        let e = try EndToEnd(
            extra: "[refresh]\nwindow = \"\(lifetime / 2)s\"\n[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n")
        try e.provider.config(#"{"access_token_lifetime": \#(lifetime), "rotate_refresh_tokens": true}"#)
        try e.login()  // a refresh token only: the first launch refreshes

        var slots: [(process: RunningProcess, kind: Kind)?] = Array(repeating: nil, count: workers)
        var started = 0
        var launches = 0
        var failures: [String] = []
        var fingerprints: Set<String> = []
        var tightest = Double.infinity  // the least token life left at a child's call (run launches)
        let begin = monotonicSeconds()
        let deadline = begin + Double(seconds)
        while true {
            var running = 0
            for slot in slots.indices {
                if let (process, kind) = slots[slot] {
                    guard let result = process.poll() else {
                        running += 1
                        continue
                    }
                    slots[slot] = nil
                    launches += 1
                    if result.status == 0, let fingerprint = Self.field("fingerprint", result.stdout) {
                        fingerprints.insert(fingerprint)
                        if let ttl = Self.field("ttl", result.stdout).flatMap(Double.init) { tightest = min(tightest, ttl) }
                    } else {
                        failures.append("\(kind): exit \(result.status): \(result.all.suffix(400))")
                    }
                }
                if monotonicSeconds() < deadline {
                    let kind = Kind.allCases[started % Kind.allCases.count]
                    slots[slot] = (launch(kind, e), kind)
                    started += 1
                    running += 1
                }
            }
            if running == 0 { break }
            usleep(2_000)
        }
        let elapsed = monotonicSeconds() - begin

        let stats = try e.provider.stats()
        // The shortest time a refreshed token can serve before the policy asks again:
        // tokenrun's clock has whole seconds, so half the lifetime less up to one second.
        let shortestUse = Double(lifetime - lifetime / 2 - 1)
        let mostRefreshes = 1 + Int(elapsed / shortestUse)
        print(
            "stress: \(workers) at once for \(seconds) s (\(Int(elapsed)) s in all), token lifetime \(lifetime) s: "
                + "\(launches) launches, \(failures.count) failed, \(fingerprints.count) distinct tokens seen, "
                + "\(stats.refresh_requests) refresh requests (\(stats.refresh_success) ok, at most \(mostRefreshes) allowed), "
                + "\(stats.reuse_events) reuse events, \(stats.api_ok)/\(stats.api_requests) API calls ok, "
                + "the tightest with \(tightest) s of token life left")

        #expect(failures.isEmpty, "\(failures.count) of \(launches) launches failed; the first: \(failures.prefix(3))")
        #expect(stats.reuse_events == 0)
        #expect(stats.api_ok == launches, "every child's call to /api/me succeeded")
        #expect(stats.api_requests == launches)
        // No refresh request was wasted, duplicated or failed, and nothing but refreshes reached the token endpoint.
        #expect(stats.refresh_requests == stats.refresh_success)
        #expect(stats.token_requests == stats.refresh_requests)
        // Each refresh produced exactly the one token that launches then shared.
        #expect(fingerprints.count == stats.refresh_success)
        // One refresh per expiry: bounded by the lifetime and the time, not by the launches.
        // No token outlived its lifetime: the children's calls spanned the whole run.
        #expect(stats.refresh_success >= max(1, seconds / lifetime))
        #expect(stats.refresh_success <= mostRefreshes)
        #expect(e.leftoverRunDirectories.isEmpty, "\(e.leftoverRunDirectories)")
    }

    func launch(_ kind: Kind, _ e: EndToEnd) -> RunningProcess {
        let child = [e.python, e.child, "--url", e.provider.url, "--fingerprint"]
        switch kind {
        case .get:
            let script = #"TOKEN=$("$0" get -p demo) || exit; export TOKEN; exec "$@""#
            return e.box.start(["-c", script, CLISandbox.binary] + child, program: "/bin/sh")
        case .runEnvironment:
            return e.box.start(["-p", "demo", "--"] + child)
        case .runFile:
            return e.box.start(["-p", "demo", "--"] + child + ["--file-env", "TOKEN_FILE"])
        }
    }

    /// A field of the last line of a child that got 200 from /api/me (a string or a number).
    static func field(_ name: String, _ stdout: String) -> String? {
        guard let last = stdout.split(separator: "\n").last, last.contains("\"status\": 200"),
            let range = last.firstRange(of: "\"\(name)\": ")
        else { return nil }
        let value = last[range.upperBound...].drop { $0 == "\"" }.prefix { $0 != "\"" && $0 != "," && $0 != "}" }
        return value.isEmpty ? nil : String(value)
    }
}
