// tokenrun runs a launch and get itself and hands every other command line to
// tokenrun-cli by exec (Sources/tokenrun/main.swift). From the caller's side the
// two programs are one: same words, same statuses, same environment for the
// command; installed, tokenrun-cli lives in PREFIX/libexec/tokenrun and still
// finds the helpers in PREFIX/bin.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: tokenrun and tokenrun-cli behave as one program")
struct ProgramSplitTests {
    static let buildDirectory = CLISandbox.binary.directoryPart

    /// Copies the built programs into `root` as `layout` names them (relative path → program).
    func install(_ layout: [String: String], under root: String) throws {
        for (relative, program) in layout {
            let target = root + "/" + relative
            CLISandbox.makeDirectories(target.directoryPart)
            let copied = system("cp '\(Self.buildDirectory)/\(program)' '\(target)'")
            try #require(copied == 0, "could not copy \(program)")
        }
    }

    @Test("help, version and a usage error read the same through tokenrun as from tokenrun-cli itself")
    func sameWords() throws {
        let box = CLISandbox()
        let cli = Self.buildDirectory + "/tokenrun-cli"
        for arguments in [["--help"], ["--version"], ["get", "--help"], ["-p", "a", "--bogus", "--", "true"], ["status", "--json"]] {
            let through = box.run(arguments)
            let direct = box.run(arguments, program: cli)
            #expect(through.status == direct.status, "\(arguments): \(through.all) vs \(direct.all)")
            #expect(through.stdout == direct.stdout && through.stderr == direct.stderr, "\(arguments)")
        }
        #expect(box.run(["--help"]).stdout.contains("USAGE: tokenrun "), "help names tokenrun, not tokenrun-cli")
        #expect(box.run(["-p", "a", "--bogus", "--", "true"]).status == 64)
    }

    @Test("tokenrun-cli runs in tokenrun's place: same pid for a command it waits for, and the caller's umask for the command")
    func samePid() throws {
        let e = try EndToEnd()
        try e.login()
        // --verbose is not on the hand-parsed path: tokenrun-cli runs this launch.
        let result = e.box.run(
            ["-c", "umask 027; echo $$; exec \(CLISandbox.binary) --verbose --no-exec -p demo -- /bin/sh -c 'echo $PPID; umask'"],
            program: "/bin/sh")
        #expect(result.status == 0, "\(result.all)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // The shell exec'd tokenrun, which exec'd tokenrun-cli: the command's parent is the shell's pid.
        #expect(lines.count == 3 && lines[0] == lines[1], "\(result.all)")
        #expect(lines.last == "0027", "the command did not get the caller's umask: \(result.stdout)")
        #expect(result.stderr.contains("tokenrun: verbose:"), "\(result.stderr)")
    }

    @Test("without tokenrun-cli a launch and get still work; any other command says what is missing and exits 78")
    func cliMissing() throws {
        let e = try EndToEnd()
        try e.login()
        try install(["bin/tokenrun": "tokenrun", "bin/tokenrun-http": "tokenrun-http"], under: e.box.root + "/alone")
        let alone = e.box.root + "/alone/bin/tokenrun"
        let got = e.box.run(["get", "-p", "demo", "--field", "token_type"], program: alone)
        #expect(got.status == 0 && got.stdout == "Bearer\n", "\(got.all)")
        let launched = e.box.run(["-p", "demo", "--", "/bin/sh", "-c", "test -n \"$TOKEN\""], program: alone)
        #expect(launched.status == 0, "\(launched.all)")
        let status = e.box.run(["status"], program: alone)
        #expect(status.status == 78, "\(status.all)")
        #expect(status.stdout.isEmpty)
        #expect(
            status.stderr.contains("tokenrun: error: cannot start tokenrun-cli (\(e.box.root)/alone/libexec/tokenrun/tokenrun-cli)"),
            "\(status.stderr)")
        #expect(status.stderr.contains("No such file or directory") && status.stderr.contains("tokenrun: hint: reinstall tokenrun"))
    }

    @Test(
        "installed as make install lays it out, tokenrun finds libexec/tokenrun/tokenrun-cli, which finds bin/tokenrun-http for a refresh")
    func installedLayout() throws {
        let e = try EndToEnd()
        try e.login()
        let prefix = e.box.root + "/prefix"
        try install(
            [
                "bin/tokenrun": "tokenrun", "bin/tokenrun-http": "tokenrun-http",
                "libexec/tokenrun/tokenrun-cli": "tokenrun-cli",
            ], under: prefix)
        let tokenrun = prefix + "/bin/tokenrun"
        let version = e.box.run(["--version"], program: tokenrun)
        #expect(version.status == 0 && version.stdout == e.box.run(["--version"]).stdout, "\(version.all)")
        // --refresh through tokenrun-cli (--verbose takes the command line there), with PATH
        // holding no tokenrun-http: the helper must be found in PREFIX/bin.
        let refreshed = e.box.run(["--verbose", "--refresh", "-p", "demo", "--", "/bin/true"], program: tokenrun)
        #expect(refreshed.status == 0, "\(refreshed.all)")
        #expect(refreshed.stderr.contains("demo: refreshed in"), "\(refreshed.stderr)")
        let status = e.box.run(["status", "-p", "demo"], program: tokenrun)
        #expect(status.status == 0 && status.stdout.contains("demo"), "\(status.all)")
    }
}

extension String {
    /// The path without its last component.
    fileprivate var directoryPart: String { String(self[..<(lastIndex(of: "/") ?? endIndex)]) }
}
