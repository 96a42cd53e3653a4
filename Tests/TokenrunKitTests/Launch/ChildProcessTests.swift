import Testing
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("child process")
struct ChildProcessTests {
    let dir = TemporaryDirectory()
    static let environment = ["PATH": "/usr/bin:/bin"]

    @Test("the child's exit code passes through", arguments: [0, 1, 7, 125, 255] as [Int32])
    func exitCode(_ code: Int32) throws {
        let exit = try Subprocess.runChild(["/bin/sh", "-c", "exit \(code)"], environment: Self.environment)
        #expect(exit == .exited(code))
        #expect(exit.shellStatus == code)
    }

    @Test("a command is searched in PATH")
    func pathSearch() throws {
        #expect(try Subprocess.runChild(["sh", "-c", "exit 3"], environment: Self.environment) == .exited(3))
    }

    @Test("a child killed by a signal reports it; the shell status is 128+N")
    func killedBySignal() throws {
        // The calling thread has SIGTERM blocked: the child must start with an empty mask and default handlers.
        let exit = try Subprocess.runChild(["/bin/sh", "-c", "kill -TERM $$; exit 0"], environment: Self.environment)
        #expect(exit == .signaled(SIGTERM))
        #expect(exit.shellStatus == 143)
    }

    @Test(
        "shell status of each kind of exit",
        arguments: [(ChildExit.exited(0), 0), (.exited(42), 42), (.signaled(9), 137), (.signaled(2), 130)] as [(ChildExit, Int32)])
    func shellStatus(_ exit: ChildExit, _ expected: Int32) {
        #expect(exit.shellStatus == expected)
    }

    @Test(
        "a command that does not exist is not found (127)",
        arguments: ["tokenrun-test-no-such-command", "/nonexistent/dir/cmd", "/etc/passwd/cmd"])
    func notFound(_ command: String) {
        let error = #expect(throws: TokenrunError.self) {
            try Subprocess.runChild([command, "arg"], environment: Self.environment)
        }
        #expect(error == .commandNotFound(command))
        #expect(error?.exitCode == 127)
    }

    @Test("a file without execute permission is not executable (126)")
    func notExecutable() throws {
        try dir.write("script.sh", "#!/bin/sh\nexit 0\n", mode: 0o644)
        let path = dir.file("script.sh")
        let error = #expect(throws: TokenrunError.self) {
            try Subprocess.runChild([path], environment: Self.environment)
        }
        guard case .commandNotExecutable(let name, _)? = error else {
            Issue.record("expected commandNotExecutable, got \(String(describing: error))")
            return
        }
        #expect(name == path)
        #expect(error?.exitCode == 126)
    }

    @Test("a directory is not executable (126)")
    func directory() {
        let error = #expect(throws: TokenrunError.self) {
            try Subprocess.runChild([dir.path], environment: Self.environment)
        }
        #expect(error?.exitCode == 126)
    }

    @Test("the environment reaches the child exactly, nothing added or lost")
    func environmentPassedExactly() throws {
        let output = dir.file("env.out")
        var cwd = [CChar](repeating: 0, count: 4096)
        let workingDirectory = try #require(getcwd(&cwd, cwd.count).map { String(cString: $0) })
        let environment = [
            // dash sets PWD when it is missing; given the true one, it keeps it.
            "PWD": workingDirectory, "TOKENRUN_TEST_OUT": output, "ACME_TOKEN": "ya29.a0-token",
            "WITH_SPACES": "  a b  ", "MULTI_LINE": "one\ntwo\n", "EQUALS": "a=b=c", "UNICODE": "ünïcödé €", "EMPTY": "",
            "QUOTES": #"'"$`\"#,
        ]
        let exit = try Subprocess.runChild(["/bin/sh", "-c", #"exec /usr/bin/env -0 > "$TOKENRUN_TEST_OUT""#], environment: environment)
        #expect(exit == .exited(0))
        let bytes = try #require(try FileSystem.readFile(output))
        var seen: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            let name = text.prefix { $0 != "=" }
            seen[String(name)] = String(text.dropFirst(name.count + 1))
        }
        #expect(seen == environment)
    }
}

@Suite("signal relay decisions")
struct SignalRelayTests {
    @Test(
        "signals from the terminal driver are not relayed (the child has them); signals sent by a process are",
        arguments: [(Int32(0x80), false), (Int32(0), true), (Int32(-1), true), (Int32(-6), true)])
    func relay(siCode: Int32, relayed: Bool) {
        for signal in [SIGINT, SIGHUP, SIGWINCH] {
            #expect(ChildProcess.shouldRelay(signal, siCode: siCode, sessionLeader: false) == relayed)
        }
    }

    @Test("a session leader relays the terminal's hangup, which the kernel sends to the leader alone")
    func hangupToLeader() {
        #expect(ChildProcess.shouldRelay(SIGHUP, siCode: 0x80, sessionLeader: true))
        #expect(!ChildProcess.shouldRelay(SIGINT, siCode: 0x80, sessionLeader: true))
        #expect(!ChildProcess.shouldRelay(SIGWINCH, siCode: 0x80, sessionLeader: true))
    }
}
