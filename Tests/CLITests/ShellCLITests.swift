import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("tokenrun shell habits")
struct ShellCLITests {
    let box = CLISandbox()

    /// The sandbox environment with the built tokenrun first on PATH, as the completion scripts expect.
    var shellEnvironment: [String: String] {
        let binDirectory = String(CLISandbox.binary[..<CLISandbox.binary.lastIndex(of: "/")!])
        return ["PATH": binDirectory + ":/usr/bin:/bin"]
    }

    /// Runs the real bash with the generated completion script and completes `words`, the last being the word at the cursor.
    func bashComplete(_ words: [String]) -> CLIResult {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let line = words.joined(separator: " ")
        let script = """
            source <(tokenrun completion bash) || exit 9
            COMP_WORDS=(\(quoted))
            COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'
            COMP_POINT=${#COMP_LINE}
            _tokenrun tokenrun '\(words[words.count - 1])' '\(words[words.count - 2])'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        return box.run(["--norc", "--noprofile", "-c", script], environment: shellEnvironment, program: "/bin/bash")
    }

    @Test("bash completes -p with the user's profile names and the built-ins")
    func bashCompletesProfiles() {
        box.writeProfile("acme", acmeProfile)
        let result = bashComplete(["tokenrun", "get", "-p", ""])
        #expect(result.status == 0, "\(result.all)")
        let offered = result.stdout.split(separator: "\n").map(String.init)
        #expect(offered.contains("acme"), "\(result.all)")
        #expect(offered.contains("gmail"), "\(result.all)")
        #expect(offered.filter { $0 == "acme" }.count == 1)
    }

    @Test("bash narrows profile names to the typed prefix, also for --profile of status and the profiles show argument")
    func bashCompletesPrefix() {
        box.writeProfile("acme", acmeProfile)
        let status = bashComplete(["tokenrun", "status", "--profile", "ac"])
        #expect(status.stdout.split(separator: "\n") == ["acme"], "\(status.all)")
        let show = bashComplete(["tokenrun", "profiles", "show", "gm"])
        #expect(show.stdout.split(separator: "\n") == ["gmail"], "\(show.all)")
    }

    @Test("bash completes the subcommands, completion among them")
    func bashCompletesSubcommands() {
        let result = bashComplete(["tokenrun", ""])
        for name in ["get", "status", "doctor", "profiles", "vault", "completion"] {
            #expect(result.stdout.split(separator: "\n").contains(Substring(name)), "\(name): \(result.all)")
        }
    }

    @Test("zsh and fish scripts are generated, name the subcommands and, where the shell is installed, parse")
    func zshAndFishScripts() throws {
        for shell in ["zsh", "fish"] {
            let result = box.run(["completion", shell])
            #expect(result.status == 0, "\(result.all)")
            for name in ["get", "status", "doctor", "profiles", "completion", "---completion"] {
                #expect(result.stdout.contains(name), "\(shell): \(name)")
            }
            for directory in ["/usr/bin", "/bin", "/usr/local/bin"] where access("\(directory)/\(shell)", X_OK) == 0 {
                box.write("script.\(shell)", result.stdout)
                let check = box.run(["-n", box.root + "/script.\(shell)"], program: "\(directory)/\(shell)")
                #expect(check.status == 0, "\(shell) -n: \(check.all)")
                break
            }
        }
    }

    @Test("completion with an unknown shell is a usage error, exit 64")
    func completionUnknownShell() {
        let result = box.run(["completion", "tcsh"])
        #expect(result.status == 64, "\(result.all)")
    }

    @Test("--version prints the version and exits 0")
    func version() {
        let result = box.run(["--version"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.split(separator: ".").count == 3, "\(result.stdout)")
    }

    /// Runs tokenrun with `arguments` on a pseudo-terminal and returns what the terminal showed.
    func onTerminal(_ arguments: [String], environment: [String: String] = [:]) -> String {
        let driver = """
            import os,pty,sys
            pid,fd=pty.fork()
            if pid==0:
                # The terminal stays open a moment after tokenrun exits: a pty hung up at once
                # can drop output the driver has not read yet (seen under load).
                os.execv('/bin/sh',['/bin/sh','-c','"$0" "$@"; s=$?; sleep 0.3; exit $s']+sys.argv[1:])
            out=b''
            while True:
                try: chunk=os.read(fd,4096)
                except OSError: break
                if not chunk: break
                out+=chunk
            os.waitpid(pid,0)
            sys.stdout.write(out.hex())
            """
        let result = box.run(["-c", driver, CLISandbox.binary] + arguments, environment: environment, program: TestProvider.python)
        var bytes: [UInt8] = []
        var hex = result.stdout.utf8.makeIterator()
        while let high = hex.next(), let low = hex.next() {
            bytes.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) ?? 0)
        }
        return String(decoding: bytes, as: UTF8.self) + result.stderr
    }

    @Test("on a terminal doctor colours pass/warn/fail and errors colour their prefix; NO_COLOR turns it off")
    func colourOnTerminal() {
        let doctor = onTerminal(["doctor", "--offline"])
        #expect(doctor.contains("\u{1b}[32mpass\u{1b}[0m"), "\(doctor)")
        let error = onTerminal(["get", "-p", "nope"])
        #expect(error.contains("tokenrun: \u{1b}[31merror:\u{1b}[0m"), "\(error)")
        for value in ["1", "true"] {
            let plain = onTerminal(["doctor", "--offline"], environment: ["NO_COLOR": value])
            #expect(plain.contains("pass  "), "\(plain)")
            #expect(!plain.utf8.contains(0x1b), "\(plain)")
        }
        let json = onTerminal(["doctor", "--offline", "--json"])
        #expect(json.contains("\"checks\""), "\(json)")
        #expect(!json.utf8.contains(0x1b))
    }

    @Test("no --json output and no text output to a pipe holds an escape byte")
    func noColourOnPipes() {
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-pipe-1\n").status == 0)
        for arguments in [
            ["status"], ["doctor", "--offline"], ["status", "--json"], ["doctor", "--offline", "--json"], ["get", "-p", "nope"],
        ] {
            let result = box.run(arguments)
            #expect(!result.all.utf8.contains(0x1b), "\(arguments)")
        }
    }
}
