// A child that outlives its token keeps working through a file
// that tokenrun rewrites before each expiry.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: files kept fresh for long-running children")
struct KeepFreshTests {
    /// A child that, for `seconds`, calls the API with the file's token every 0.3 s while
    /// another thread rereads the file as fast as it can; it prints one JSON summary line.
    static let child = """
        import json, os, signal, sys, threading, time, urllib.request
        path, url, seconds = os.environ["TOKEN_FILE"], sys.argv[1], float(sys.argv[2])
        seen, bad_reads, reads, codes, signals = set(), 0, 0, {}, [0]
        signal.signal(signal.SIGUSR1, lambda s, f: signals.__setitem__(0, signals[0] + 1))
        end = time.time() + seconds
        def hammer():
            global bad_reads, reads
            while time.time() < end:
                with open(path) as f: text = f.read()
                reads += 1
                if len(text) != 42 or not text.isalnum(): bad_reads += 1
        t = threading.Thread(target=hammer); t.start()
        while time.time() < end:
            with open(path) as f: token = f.read()
            seen.add(token)
            req = urllib.request.Request(url + "/api/me", headers={"Authorization": "Bearer " + token})
            try:
                code = urllib.request.urlopen(req, timeout=5).status
            except urllib.error.HTTPError as e:
                code = e.code
            codes[str(code)] = codes.get(str(code), 0) + 1
            time.sleep(0.3)
        t.join()
        print(json.dumps({"codes": codes, "tokens": len(seen), "bad_reads": bad_reads, "reads": reads, "signals": signals[0]}))
        """

    @Test("a child running over three token lifetimes calls the API through the file with no 401, and never reads a partial file")
    func threeLifetimes() throws {
        let e = try EndToEnd(
            extra: """
                [[file]]
                path_env = "TOKEN_FILE"
                template = "{{access_token}}"
                [refresh]
                window = "3s"
                on_refresh_signal = "USR1"
                """)
        try e.provider.config(#"{"access_token_lifetime": 6}"#)
        try e.login()
        let result = e.box.run(["-p", "demo", "--", e.python, "-c", Self.child, e.provider.url, "20"])
        #expect(result.status == 0, "\(result.all)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(!summary.contains("\"401\""), "\(summary)")
        #expect(summary.contains("\"bad_reads\": 0"), "\(summary)")
        // 20 s of 6 s tokens: at least four distinct tokens, each delivered with a USR1.
        let tokens = Int(summary.split(separator: "\"tokens\": ").last?.prefix { $0.isNumber } ?? "0") ?? 0
        #expect(tokens >= 4, "\(summary)")
        let signals = Int(summary.split(separator: "\"signals\": ").last?.prefix { $0.isNumber } ?? "0") ?? 0
        #expect(signals >= tokens - 1, "\(summary)")
        let stats = try e.provider.stats()
        #expect(stats.reuse_events == 0)
        #expect(stats.refresh_requests == stats.refresh_success)
    }

    @Test("a dead refresh token while the child runs is reported, and the child is left running to its end")
    func deadGrantLeavesChildRunning() throws {
        let e = try EndToEnd(
            extra: """
                [[file]]
                path_env = "TOKEN_FILE"
                template = "{{access_token}}"
                [refresh]
                window = "2s"
                """)
        try e.provider.config(#"{"access_token_lifetime": 4}"#)
        try e.login()
        let process = e.box.start(["-p", "demo", "--", "/bin/sh", "-c", "sleep 5; echo child-finished"])
        usleep(1_000_000)
        try e.provider.revokeUser("alice")
        let result = process.wait()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("child-finished"))
        #expect(result.stderr.contains("refresh token of \"demo\" is dead"), "\(result.stderr)")
        #expect(result.stderr.contains("the command keeps running"))
        #expect(e.audit.contains("invalid_grant"))
    }
}
