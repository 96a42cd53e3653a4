// A launch that needs nothing of tokenrun once the command has started becomes
// the command (execve in place); --no-exec, `exec = false`, [[file]] and
// --keep-fresh keep the fork-and-wait. From the caller's side both must look
// the same: status, death by signal, signals sent to the pid it started, the
// command's environment.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: the command runs in tokenrun's place unless something needs tokenrun after the start")
struct ExecInPlaceTests {
    /// The pid the command sees as its own, and what its parent is.
    static let ids = "echo \"pid $$ ppid $PPID\""

    func ids(_ result: CLIResult) -> (pid: pid_t, ppid: pid_t)? {
        let words = result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 4, let pid = pid_t(words[1]), let ppid = pid_t(words[3]) else { return nil }
        return (pid, ppid)
    }

    func events(_ e: EndToEnd) -> [String] {
        e.audit.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "\"event\":\"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test("by default the command is tokenrun's own process: same pid, a launch record with exec, no exit record; log says so")
    func execByDefault() throws {
        let e = try EndToEnd()
        try e.login()
        let running = e.box.start(["-p", "demo", "--", "/bin/sh", "-c", Self.ids])
        let result = running.wait()
        #expect(result.status == 0, "\(result.all)")
        let seen = try #require(ids(result), "\(result.all)")
        #expect(seen.pid == running.pid, "the command ran in a child of tokenrun: \(result.stdout)")
        #expect(seen.ppid == getpid(), "the command's parent is the test, which started tokenrun")
        #expect(events(e) == ["import", "refresh", "launch"], "\(e.audit)")
        #expect(e.audit.contains("\"event\":\"launch\",\"exec\":true"), "\(e.audit)")
        let log = e.box.run(["log", "-n", "1"])
        #expect(log.stdout.contains("launch  demo  sh  exec (no exit record)"), "\(log.all)")
        let json = e.box.run(["log", "-n", "1", "--json"])
        #expect(json.stdout.contains("\"exec\":true"), "\(json.all)")
    }

    @Test(
        "--no-exec, exec = false in a profile, [[file]] and --keep-fresh wait for the command and record its exit",
        arguments: ["--no-exec", "exec = false", "[[file]]", "--keep-fresh"])
    func waits(mode: String) throws {
        let extra: String
        switch mode {
        case "exec = false": extra = "exec = false\n"
        case "[[file]]": extra = "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n"
        default: extra = ""
        }
        // A top-level key must come before the first table: the sandbox's profile starts with [oauth].
        let e = try EndToEnd(extra: mode == "exec = false" ? "" : extra, top: mode == "exec = false" ? extra : "")
        try e.login()
        let flags = mode.hasPrefix("--") ? [mode] : []
        let running = e.box.start(flags + ["-p", "demo", "--", "/bin/sh", "-c", Self.ids + "; exit 3"])
        let result = running.wait()
        #expect(result.status == 3, "\(result.all)")
        let seen = try #require(ids(result), "\(result.all)")
        #expect(seen.pid != running.pid && seen.ppid == running.pid, "tokenrun did not start and wait for the command: \(result.stdout)")
        #expect(events(e) == ["import", "refresh", "launch", "exit"], "\(e.audit)")
        #expect(!e.audit.contains("\"exec\""), "\(e.audit)")
        #expect(e.audit.contains("\"status\":3"), "\(e.audit)")
        if mode == "exec = false" {
            let shown = e.box.run(["profiles", "show", "demo", "--json"])
            #expect(shown.stdout.contains("\"exec\" : false"), "\(shown.all)")
        }
    }

    @Test("exit status and death by signal look the same to the caller in both modes", arguments: [[], ["--no-exec"]])
    func statusAndSignals(flags: [String]) throws {
        let e = try EndToEnd()
        try e.login()
        let seven = e.launch(["--exit", "7"], flags: flags)
        #expect(seven.status == 7, "\(seven.all)")
        #expect(seven.stdout.contains("\"status\": 200"), "the child did not call the API: \(seven.all)")
        let killed = e.box.run(flags + ["-p", "demo", "--", "/bin/sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 143, "\(killed.all)")
        #expect(killed.signal == SIGTERM, "the caller did not see a death by SIGTERM: \(killed.all)")
        #expect(e.audit.contains("\"signal\":15") == !flags.isEmpty, "\(e.audit)")
    }

    @Test("a signal sent to the pid the caller started reaches the command, in both modes", arguments: [[], ["--no-exec"]])
    func signalToPid(flags: [String]) throws {
        let e = try EndToEnd()
        try e.login()
        let script =
            "import signal,sys,time\nsignal.signal(signal.SIGTERM,lambda s,f:(print('got TERM',flush=True),sys.exit(5)))\nprint('ready',flush=True)\ntime.sleep(20)\n"
        let running = e.box.start(flags + ["-p", "demo", "--", e.python, "-c", script])
        for _ in 0..<400 where !running.stdoutSoFar.contains("ready") { usleep(25_000) }
        running.signal(SIGTERM)
        let result = running.wait()
        #expect(result.stdout.contains("got TERM"), "\(result.all)")
        #expect(result.status == 5, "\(result.all)")
    }

    @Test("the command's environment is the same in both modes")
    func sameEnvironment() throws {
        let e = try EndToEnd()
        try e.login()
        let inPlace = e.box.run(["-p", "demo", "--", "/usr/bin/env"])
        let waited = e.box.run(["--no-exec", "-p", "demo", "--", "/usr/bin/env"])
        #expect(inPlace.status == 0 && waited.status == 0, "\(inPlace.all) \(waited.all)")
        let lines = { (r: CLIResult) in Set(r.stdout.split(separator: "\n").map(String.init)) }
        #expect(lines(inPlace) == lines(waited), "differs: \(lines(inPlace).symmetricDifference(lines(waited)))")
        #expect(lines(inPlace).contains { $0.hasPrefix("DEMO_TOKEN=") || $0.hasPrefix("TOKEN=") }, "\(inPlace.stdout)")
        #expect(!lines(inPlace).contains { $0.hasPrefix("TOKENRUN_KEY_FILE=") }, "\(inPlace.stdout)")
    }

    @Test("after a refresh the command holds none of tokenrun's descriptors (so none of its locks), as with --no-exec")
    func noDescriptors() throws {
        let e = try EndToEnd()
        try e.login()
        // tokenrun started with only 0, 1 and 2 open (the test process has others, some
        // opened by tests running beside this one); the command, ls, lists its own: those
        // three and its listing's, after a refresh took the lease and wrote the vault and the
        // audit trail. A lock (flock or fcntl) lives while a descriptor of it is open.
        let bare = "import os, sys; os.closerange(3, 1 << 16); os.execv(sys.argv[1], sys.argv[1:])"
        let list = ["/bin/ls", "-v", "/proc/self/fd"]
        for flags in [[], ["--no-exec"]] {
            let result = e.box.run(
                ["-c", bare, CLISandbox.binary] + flags + ["-p", "demo", "--refresh", "--"] + list, program: e.python)
            #expect(result.status == 0, "\(flags): \(result.all)")
            #expect(result.stdout == "0\n1\n2\n3\n", "\(flags): the command has more: \(result.stdout)")
        }
        #expect(events(e).filter { $0 == "refresh" }.count == 2, "\(e.audit)")
    }

    @Test("a command that cannot be started: 127 or 126 as before, and the exit record says so")
    func cannotStart() throws {
        let e = try EndToEnd()
        try e.login()
        let missing = e.box.run(["-p", "demo", "--", "no-such-command-xyz"])
        #expect(missing.status == 127, "\(missing.all)")
        #expect(missing.stderr.contains("no-such-command-xyz"), "\(missing.all)")
        e.box.write("not-executable", "#!/bin/sh\n")
        let denied = e.box.run(["-p", "demo", "--", e.box.root + "/not-executable"])
        #expect(denied.status == 126, "\(denied.all)")
        #expect(events(e) == ["import", "refresh", "launch", "exit", "launch", "exit"], "\(e.audit)")
        #expect(e.audit.contains("\"status\":127") && e.audit.contains("\"status\":126"), "\(e.audit)")
    }

    @Test("--verbose says the command runs in tokenrun's place")
    func verbose() throws {
        let e = try EndToEnd()
        try e.login()
        let result = e.box.run(["run", "-v", "-p", "demo", "--", "/bin/true"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("true: runs in tokenrun's place (exec: no exit record; --no-exec waits for it)"), "\(result.all)")
    }
}
