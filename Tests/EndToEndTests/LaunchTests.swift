import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: refresh and launch against the Authlib provider")
struct LaunchTests {
    @Test("an expired token is refreshed once, rotated, and the child's API call succeeds with it")
    func refreshAndLaunch() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let first = e.launch()
        #expect(first.status == 0, "\(first.all)")
        #expect(first.stdout.contains("\"status\": 200"))
        #expect(first.stdout.contains("\"user\": \"alice\""))
        var stats = try e.provider.stats()
        #expect(stats.refresh_requests == 1)
        #expect(stats.refresh_success == 1)
        #expect(stats.api_ok == 1)
        #expect(stats.last_token_request?.auth_method == "client_secret_basic")

        // Outside the window now: no token request at all.
        let second = e.launch()
        #expect(second.status == 0, "\(second.all)")
        stats = try e.provider.stats()
        #expect(stats.token_requests == 1)
        #expect(stats.api_ok == 2)

        // --refresh forces a refresh, with the rotated token (no reuse).
        let forced = e.launch(flags: ["run", "--refresh"])
        #expect(forced.status == 0, "\(forced.all)")
        stats = try e.provider.stats()
        #expect(stats.refresh_success == 2)
        #expect(stats.reuse_events == 0)

        // --min-ttl beyond the provider's 1 h tokens can never be met: a warning, and no request.
        let unmeetable = e.launch(flags: ["run", "--min-ttl", "2h"])
        #expect(unmeetable.status == 0, "\(unmeetable.all)")
        #expect(
            unmeetable.stderr.contains(
                "tokenrun: warning: the provider issues tokens of demo for 1h, so --min-ttl 2h can never be met"),
            "\(unmeetable.stderr)")
        #expect(try e.provider.stats().refresh_success == 2)
        // The seeded refresh token was rotated away: the vault no longer holds it.
        #expect(!(e.box.read(e.box.vaultPath) ?? "").contains(seed.refresh_token))
    }

    @Test("a token file is written 0600 in a private directory and removed after the child exits")
    func tokenFile() throws {
        let e = try EndToEnd(extra: "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n")
        try e.login()
        let result = e.box.run([
            "-p", "demo", "--", "/bin/sh", "-c",
            "stat -c '%a' \"$TOKEN_FILE\"; stat -c '%a' \"$(dirname \"$TOKEN_FILE\")\"; \(e.python) \(e.child) --url \(e.provider.url) --file-env TOKEN_FILE",
        ])
        #expect(result.status == 0, "\(result.all)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "600")
        #expect(lines.dropFirst().first == "700")
        #expect(result.stdout.contains("\"status\": 200"))
        #expect(e.leftoverRunDirectories.isEmpty)
    }

    @Test("the child's exit status passes through, and a signal death becomes 128+N")
    func exitStatus() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.launch(["--exit", "7"], flags: ["--no-exec"]).status == 7)
        let killed = e.box.run(["--no-exec", "-p", "demo", "--", "/bin/sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 143)
        #expect(e.audit.contains("\"signal\":15"))
    }

    @Test("a command that is not found exits 127, one that cannot be executed 126")
    func missingCommand() throws {
        let e = try EndToEnd()
        try e.login()
        let missing = e.box.run(["-p", "demo", "--", "no-such-command-xyz"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("no-such-command-xyz: command not found"))
        e.box.write("not-executable", "#!/bin/sh\n", mode: 0o644)
        let denied = e.box.run(["-p", "demo", "--", e.box.root + "/not-executable"])
        #expect(denied.status == 126)
        #expect(e.leftoverRunDirectories.isEmpty)
    }

    @Test("SIGTERM to tokenrun reaches the child once, tokenrun exits 143 and removes the token file")
    func sigtermRemovesFiles() throws {
        let e = try EndToEnd(extra: "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n")
        try e.login()
        let running = e.startLaunch(["--no-call", "--sleep", "30", "--trap-signals"])
        // Wait until the child is up (its private directory exists).
        for _ in 0..<200 where e.leftoverRunDirectories.isEmpty { usleep(25_000) }
        usleep(300_000)
        #expect(!e.leftoverRunDirectories.isEmpty)
        running.signal(SIGTERM)
        let result = running.wait()
        #expect(result.status == 143, "\(result.all)")
        #expect(result.stdout.components(separatedBy: "SIGTERM").count == 2, "the child saw SIGTERM exactly once: \(result.stdout)")
        #expect(e.leftoverRunDirectories.isEmpty)
    }

    @Test("SIGUSR1 sent to tokenrun reaches the child exactly once")
    func signalOnce() throws {
        let e = try EndToEnd()
        try e.login()
        let script =
            "import signal,time,sys\nn=[0]\ndef h(s,f): n[0]+=1\nsignal.signal(signal.SIGUSR1,h)\nprint('ready',flush=True)\nend=time.time()+3\nwhile time.time()<end: time.sleep(0.05)\nprint('count',n[0],flush=True)"
        let running = e.box.start(["-p", "demo", "--", e.python, "-c", script])
        for _ in 0..<200 where !running.stdoutSoFar.contains("ready") { usleep(25_000) }
        running.signal(SIGUSR1)
        let result = running.wait()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("count 1"), "\(result.stdout)")
    }

    @Test("Ctrl-C at a terminal reaches the child, which handles it, and tokenrun passes its status back")
    func ctrlCOnce() throws {
        let e = try EndToEnd()
        try e.login()
        let child = """
            import signal,time
            n=[0]
            def h(s,f): n[0]+=1
            signal.signal(signal.SIGINT,h)
            print('ready',flush=True)
            end=time.time()+10
            while n[0]==0 and time.time()<end: time.sleep(0.02)
            time.sleep(0.5)
            print('count',n[0],flush=True)
            """
        // A pseudo-terminal, with tokenrun in its foreground process group, as in an interactive shell.
        let driver =
            TerminalDriver.prelude + """
                pid,fd=pty.fork()
                if pid==0:
                    os.execv(sys.argv[1],[sys.argv[1],'-p','demo','--',sys.argv[2],'-c',sys.argv[3]])
                pump(b'ready',20)
                os.write(fd,bytes([3]))
                pump(b'count',20)
                finish(pid,20)
                """
        let result = e.box.start(["-c", driver, CLISandbox.binary, e.python, child], program: e.python).wait()
        #expect(result.stdout.contains("count 1"), "\(result.all)")
        #expect(result.stdout.contains("EXIT 0"), "\(result.all)")
    }

    @Test("a launch left behind by a SIGKILLed tokenrun is swept by the next launch")
    func sweepAfterKill() throws {
        let e = try EndToEnd(extra: "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n")
        try e.login()
        let running = e.startLaunch(["--no-call", "--sleep", "30"])
        for _ in 0..<200 where e.leftoverRunDirectories.isEmpty { usleep(25_000) }
        #expect(e.leftoverRunDirectories.count == 1)
        running.signal(SIGKILL)
        _ = running.wait()
        // The orphaned child still runs; once it is gone too, the directory may go.
        usleep(100_000)
        let next = e.launch(["--file-env", "TOKEN_FILE"])
        #expect(next.status == 0, "\(next.all)")
        #expect(e.leftoverRunDirectories.isEmpty, "\(e.leftoverRunDirectories)")
    }

    @Test("key-source variables never reach the child; TOKENRUN_PROFILE and the expiry do")
    func childEnvironment() throws {
        let e = try EndToEnd()
        try e.login()
        e.box.write("pass", "unused\n")
        let result = e.launch(
            [
                "--no-call", "--print-env", "TOKENRUN_KEY_FILE", "TOKENRUN_PASSPHRASE", "TOKENRUN_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY",
                "TOKENRUN_PROFILE", "TOKENRUN_EXPIRES_AT", "TOKENRUN_EXPIRES_AT_DEMO", "TOKEN",
            ],
            environment: [
                "TOKENRUN_KEY_FILE": e.box.keyPath, "TOKENRUN_PASSPHRASE": "x", "TOKENRUN_PASSPHRASE_FILE": e.box.root + "/pass",
                "CREDENTIALS_DIRECTORY": e.box.root + "/nocreds",
            ])
        #expect(result.status == 0, "\(result.all)")
        for name in ["TOKENRUN_KEY_FILE", "TOKENRUN_PASSPHRASE", "TOKENRUN_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY"] {
            #expect(result.stdout.contains("\(name)=unset"), "\(name)")
        }
        for name in ["TOKENRUN_PROFILE", "TOKENRUN_EXPIRES_AT", "TOKENRUN_EXPIRES_AT_DEMO", "TOKEN"] {
            #expect(result.stdout.contains("\(name)=set"), "\(name)")
        }
    }

    @Test("client_secret_post and public clients authenticate the way the profile says")
    func clientAuthMethods() throws {
        let post = try EndToEnd(
            oauth: "client_id = \"tokenrun-post\"\nclient_secret = \"post-secret\"\nauth_method = \"client_secret_post\"")
        try post.login(client: "tokenrun-post")
        #expect(post.launch().status == 0)
        #expect(try post.provider.stats().last_token_request?.auth_method == "client_secret_post")

        let pub = try EndToEnd(oauth: "client_id = \"tokenrun-public\"\nauth_method = \"none\"")
        try pub.login(client: "tokenrun-public")
        let result = pub.launch()
        #expect(result.status == 0, "\(result.all)")
        #expect(try pub.provider.stats().last_token_request?.auth_method == "none")
    }

    @Test("a NUL byte in a value meant for the environment is refused with exit 78 before anything runs")
    func nulValue() throws {
        let e = try EndToEnd()
        e.box.writeProfile(
            "nul",
            """
            username = "a\\u0000b"
            [oauth]
            token_endpoint = "\(e.provider.tokenEndpoint)"
            client_id = "tokenrun-test"
            client_secret = "test-secret"
            [env]
            WHO = "{{username}}"
            """)
        let seed = try e.provider.seed()
        #expect(e.box.run(["import", "-p", "nul", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        let result = e.box.run(["-p", "nul", "--", "/bin/sh", "-c", "echo ran"])
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("WHO"))
        #expect(result.stderr.contains("NUL"))
        #expect(!result.stdout.contains("ran"))
    }

    @Test("a client secret sealed in the vault by import is used")
    func vaultClientSecret() throws {
        let e = try EndToEnd(oauth: "client_id = \"tokenrun-test\"")
        let seed = try e.provider.seed()
        let stored = e.box.run(
            ["import", "-p", "demo", "--refresh-token-stdin", "--client-secret-stdin"], stdin: "\(seed.refresh_token)\ntest-secret\n")
        #expect(stored.status == 0)
        let result = e.launch()
        #expect(result.status == 0, "\(result.all)")
    }
}
