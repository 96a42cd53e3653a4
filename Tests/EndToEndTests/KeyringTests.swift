// `tokenrun vault unlock` / `vault lock` with the real kernel keyring: each test
// has its own passphrase vault (a fresh HOME), so its keyring entry is its own,
// and locks it again at the end. Python (ctypes) plays the other processes: one
// in a new session keyring, and a reader of /proc/keys.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Python that defines `keyctl(...)` for this machine's system call number.
private let keyctlPrelude = """
    import ctypes, os, platform, sys
    NR_KEYCTL = {'x86_64': 250, 'aarch64': 219}[platform.machine()]
    libc = ctypes.CDLL(None, use_errno=True)
    def keyctl(*args):
        return libc.syscall(NR_KEYCTL, *args)

    """

/// Whether tokenrun's processes may use the kernel keyring here (KEYCTL_GET_KEYRING_ID of the session keyring).
private let keyringAvailable: Bool = {
    let check = keyctlPrelude + "sys.exit(0 if keyctl(0, -3, 0) > 0 else 1)"
    return CLISandbox().run(["-c", check], program: TestProvider.python).status == 0
}()

@Suite(
    "end to end: vault unlock and lock in the kernel keyring",
    .enabled(if: keyringAvailable, "the kernel keyring is unavailable here (add_key/keyctl blocked or missing): nothing to test")
)
struct KeyringTests {
    static let passphrase = "correct horse keyring staple 7"

    /// A provider, a passphrase vault and a still-fresh credential for "demo".
    func setUp() throws -> EndToEnd {
        let e = try EndToEnd()
        try e.passphraseLogin(Self.passphrase)
        return e
    }

    func unlock(_ e: EndToEnd, for duration: String, passphrase: String = passphrase) -> CLIResult {
        e.box.run(["vault", "unlock", "--for", duration], environment: ["TOKENRUN_PASSPHRASE": passphrase])
    }

    /// Runs tokenrun with `arguments` in a new, empty session keyring (KEYCTL_JOIN_SESSION_KEYRING, then exec).
    func inOtherSession(_ e: EndToEnd, _ arguments: [String]) -> CLIResult {
        let wrapper =
            keyctlPrelude + """
                if keyctl(1, None) < 0: sys.exit('join session keyring: errno %d' % ctypes.get_errno())
                os.execv(sys.argv[1], sys.argv[1:])
                """
        return e.box.run(["-c", wrapper, CLISandbox.binary] + arguments, program: e.python)
    }

    /// The name of this vault's keyring entry, as `vault status --json` gives it.
    func keyringName(_ e: EndToEnd) -> String {
        let status = e.box.run(["vault", "status", "--json"]).stdout
        let marker = "\"keyring_name\" : \""
        let start = status.firstRange(of: marker)!.upperBound
        return String(status[start...].prefix { $0 != "\"" })
    }

    /// The name of this vault's keyring entry, and the /proc/keys line of its live entry (not expired,
    /// revoked or invalidated, which linger until the kernel's garbage collector runs), or "none".
    func procKeysLine(_ e: EndToEnd, otherSession: Bool = false) -> (description: String, line: String) {
        let name = keyringName(e)
        let script =
            keyctlPrelude + """
                if sys.argv[2] == 'other' and keyctl(1, None) < 0: sys.exit('join session keyring failed')
                lines = [l for l in open('/proc/keys').read().splitlines() if ' ' + sys.argv[1] + ':' in l]
                lines = [l for l in lines if not set(l.split()[1]) & set('RDi') and l.split()[3] != 'expd']
                print(lines[0] if lines else 'none')
                print(len(lines))
                """
        let result = e.box.run(["-c", script, name, otherSession ? "other" : "same"], program: e.python)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        precondition(result.status == 0 && lines.count == 2, result.all)
        #expect(lines[1] == "0" || lines[1] == "1", "more than one entry for the vault: \(result.stdout)")
        return (name, lines[0])
    }

    @Test("after vault unlock, doctor unlocks as run does: it uses the cached key and checks the credentials")
    func doctorUsesCachedKey() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        let before = e.box.run(["doctor", "-p", "demo"])
        #expect(before.stdout.contains("nothing here gives it"), "\(before.all)")
        #expect(!before.stdout.contains("credential.demo.state"), "\(before.all)")

        #expect(unlock(e, for: "1m").status == 0)
        #expect(e.launch().status == 0)
        let doctor = e.box.run(["doctor", "-p", "demo"])
        #expect(doctor.status == 0, "\(doctor.all)")
        let keyLine = doctor.stdout.split(separator: "\n").first { $0.contains("key.source") } ?? ""
        #expect(keyLine.contains("keyring"), "\(doctor.stdout)")
        #expect(!doctor.stdout.contains("nothing here gives it"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("credential.demo.state"), "\(doctor.stdout)")
        #expect(!doctor.all.contains(Self.passphrase))
    }

    @Test(
        "after vault unlock, the cached key comes before every key source: with a wrong TOKENRUN_PASSPHRASE, status, get and doctor still open the vault"
    )
    func cachedKeyFirst() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        let wrong = ["TOKENRUN_PASSPHRASE": "not the passphrase"]
        let refused = e.box.run(["status"], environment: wrong)
        #expect(refused.status == 78 && refused.stderr.contains("wrong passphrase"), "\(refused.all)")

        #expect(unlock(e, for: "1m").status == 0)
        let status = e.box.run(["status"], environment: wrong)
        #expect(status.status == 0, "\(status.all)")
        #expect(status.stdout.contains("demo") && status.stdout.contains("connected"), "\(status.stdout)")
        let get = e.box.run(["get", "-p", "demo"], environment: wrong)
        #expect(get.status == 0, "\(get.all)")
        let doctor = e.box.run(["doctor", "-p", "demo", "--offline"], environment: wrong)
        #expect(doctor.status == 0, "\(doctor.all)")
        let keyLine = doctor.stdout.split(separator: "\n").first { $0.contains("key.source") } ?? ""
        #expect(keyLine.contains("pass") && keyLine.contains("session keyring"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("every record opens and verifies"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("credential.demo.state"), "\(doctor.stdout)")
        #expect(!(status.all + get.all + doctor.all).contains(Self.passphrase))
    }

    @Test("after vault unlock, get and run need no passphrase and no terminal; after vault lock they exit 78 for want of a key")
    func unlockThenLock() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        let before = e.box.run(["get", "-p", "demo"])
        #expect(before.status == 78 && before.stderr.contains("no key to unlock"), "\(before.all)")

        let unlocked = unlock(e, for: "1m")
        #expect(unlocked.status == 0, "\(unlocked.all)")
        #expect(unlocked.stdout.contains("unlocked the vault \(e.box.vaultPath) for 1m in "), "\(unlocked.stdout)")
        #expect(unlocked.stdout.contains("`tokenrun vault lock` forgets it"))
        #expect(!unlocked.all.contains(Self.passphrase))

        let get = e.box.run(["get", "-p", "demo"])
        #expect(get.status == 0, "\(get.all)")
        #expect(get.stdout.split(separator: "\n").first?.count == 42, "\(get.stdout)")
        let launched = e.launch()
        #expect(launched.status == 0, "\(launched.all)")
        #expect(launched.stdout.contains("\"status\": 200"))

        let status = e.box.run(["vault", "status"])
        #expect(status.stdout.contains("keyring:      unlocked"), "\(status.all)")
        let json = e.box.run(["vault", "status", "--json"])
        #expect(json.stdout.contains("\"keyring\" : \"unlocked\""), "\(json.stdout)")
        #expect(!json.stdout.contains("\"keyring_expires_in\" : null"), "\(json.stdout)")

        let locked = e.box.run(["vault", "lock"])
        #expect(locked.status == 0, "\(locked.all)")
        #expect(locked.stdout.contains("locked the vault \(e.box.vaultPath)"))
        let after = e.box.run(["get", "-p", "demo"])
        #expect(after.status == 78, "\(after.all)")
        #expect(after.stderr.contains("no key to unlock the vault"))
        let again = e.box.run(["vault", "lock"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("was not unlocked"))
        #expect(e.box.run(["vault", "status"]).stdout.contains("keyring:      locked"))
        #expect(procKeysLine(e).line == "none")
    }

    @Test("the key expires after --for, and a second unlock starts the time anew")
    func expiry() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        #expect(unlock(e, for: "2s").status == 0)
        #expect(e.box.run(["get", "-p", "demo"]).status == 0)
        usleep(2_800_000)
        let expired = e.box.run(["get", "-p", "demo"])
        #expect(expired.status == 78, "\(expired.all)")
        #expect(expired.stderr.contains("no key to unlock"))

        // Again: 2s, then 1m over it; past the first 2s the key is still there, and only once.
        #expect(unlock(e, for: "2s").status == 0)
        #expect(unlock(e, for: "1m").status == 0)
        usleep(2_800_000)
        let refreshed = e.box.run(["get", "-p", "demo"])
        #expect(refreshed.status == 0, "\(refreshed.all)")
        #expect(procKeysLine(e).line != "none")
    }

    @Test("a wrong passphrase on unlock exits 78 as always and caches nothing")
    func wrongPassphrase() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        let wrong = unlock(e, for: "1m", passphrase: "not the passphrase")
        #expect(wrong.status == 78, "\(wrong.all)")
        #expect(wrong.stderr.contains("wrong passphrase"))
        #expect(!wrong.all.contains("not the passphrase"))
        #expect(procKeysLine(e).line == "none")
        let get = e.box.run(["get", "-p", "demo"])
        #expect(get.status == 78 && get.stderr.contains("no key to unlock"), "\(get.all)")
        #expect(e.box.run(["vault", "lock"]).stdout.contains("was not unlocked"))
    }

    @Test("a process in another session keyring can neither use nor see the key")
    func otherSession() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        #expect(unlock(e, for: "1m").status == 0)
        let elsewhere = inOtherSession(e, ["get", "-p", "demo"])
        #expect(elsewhere.status == 78, "\(elsewhere.all)")
        #expect(elsewhere.stderr.contains("no key to unlock"))
        #expect(procKeysLine(e, otherSession: true).line == "none")
        // Meanwhile this session still has it.
        #expect(e.box.run(["get", "-p", "demo"]).status == 0)
    }

    @Test("the entry is a possessor-only user key with a timeout, named by a hash of the public key; the child gets nothing new")
    func entryAndChild() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        // The child's environment with the passphrase given, then with the cached key: the same names.
        let command = ["-p", "demo", "--", "/bin/sh", "-c", "env | cut -d= -f1 | sort"]
        let withPassphrase = e.box.run(command, environment: ["TOKENRUN_PASSPHRASE": Self.passphrase])
        #expect(withPassphrase.status == 0, "\(withPassphrase.all)")
        #expect(unlock(e, for: "1m").status == 0)
        let withKeyring = e.box.run(command)
        #expect(withKeyring.status == 0, "\(withKeyring.all)")
        #expect(withKeyring.stdout == withPassphrase.stdout)
        #expect(!withKeyring.stdout.contains("TOKENRUN_PASSPHRASE"))

        let (description, line) = procKeysLine(e)
        let columns = line.split(separator: " ").map(String.init)
        #expect(columns.count >= 9, "\(line)")
        if columns.count >= 9 {
            #expect(columns[3] != "perm", "no timeout: \(line)")
            #expect(columns[4] == "3f000000", "\(line)")
            #expect(columns[7] == "user")
            #expect(columns[8] == description + ":")
        }
        // The name is the prefix and a hash of the public key (the unit tests check which hash).
        #expect(description.hasPrefix("tokenrun:vault:") && description.count == "tokenrun:vault:".count + 32, "\(description)")
        #expect(description.dropFirst("tokenrun:vault:".count).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(!line.contains(Self.passphrase))
    }

    /// Python that looks for a `tokenrun:vault:` entry named argv[1] in its session keyring and in the
    /// user's session keyring and tries to read it; with argv[2] "join", it then also joins the session
    /// keyring "_ses" by name and looks again. Prints "read N" (the bytes it got) or "nothing".
    static let keyReader =
        keyctlPrelude + """
            name=sys.argv[1].encode()
            def look():
                for ring in (-3, -5):
                    serial=keyctl(10, ring, b'user', name, 0)
                    if serial > 0:
                        buf=ctypes.create_string_buffer(64)
                        n=keyctl(11, serial, buf, 64)
                        if n > 0: return n
                return 0
            got=look()
            if not got and len(sys.argv) > 2 and sys.argv[2] == 'join' and keyctl(1, b'_ses') > 0: got=look()
            print('read %d' % got if got else 'nothing')
            """

    @Test("a command tokenrun runs cannot read the key vault unlock cached, which the same check outside tokenrun reads")
    func childCannotReadKey() throws {
        let e = try setUp()
        defer { _ = e.box.run(["vault", "lock"]) }
        #expect(unlock(e, for: "1m").status == 0)
        let name = keyringName(e)
        // The control: run directly in this session, the reader gets the key's 32 bytes.
        let direct = e.box.run(["-c", Self.keyReader, name], program: e.python)
        #expect(direct.stdout.contains("read 32"), "\(direct.all)")
        let child = e.box.run(["-p", "demo", "--", e.python, "-c", Self.keyReader, name, "join"])
        #expect(child.status == 0, "\(child.all)")
        #expect(child.stdout.contains("nothing"), "the child reached the key: \(child.all)")
        // And tokenrun itself, in the same session, still opens the vault with it.
        #expect(e.box.run(["get", "-p", "demo"]).status == 0)
    }

    @Test("in a login session's own keyring, neither the command nor one that rejoins \"_ses\" by name reaches the key")
    func childCannotReadKeyFromOwnSession() throws {
        let e = try setUp()
        let name = keyringName(e)
        let binary = CLISandbox.binary
        // One shell in a new session keyring of its own (as pam_keyinit gives a login): unlock,
        // read directly (the control), read from a command tokenrun runs, lock.
        let script = """
            TOKENRUN_PASSPHRASE='\(Self.passphrase)' '\(binary)' vault unlock --for 1m >/dev/null || exit 9
            echo "direct: $('\(e.python)' -c "$READER" '\(name)')"
            echo "child: $('\(binary)' -p demo -- '\(e.python)' -c "$READER" '\(name)' join)"
            '\(binary)' vault lock >/dev/null
            """
        let wrapper =
            keyctlPrelude + """
                if keyctl(1, None) < 0: sys.exit('join session keyring: errno %d' % ctypes.get_errno())
                os.execv('/bin/sh', ['sh', '-c', sys.argv[1]])
                """
        let result = e.box.run(["-c", wrapper, script], environment: ["READER": Self.keyReader], program: e.python)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("direct: read 32"), "\(result.all)")
        #expect(result.stdout.contains("child: nothing"), "the child reached the key: \(result.all)")
    }

    @Test("a re-auth hook cannot read the key vault unlock cached")
    func hookCannotReadKey() throws {
        let e = try EndToEnd()
        let output = e.box.root + "/hook.out"
        e.box.write("reader.py", Self.keyReader)
        try e.passphraseLogin(Self.passphrase, accessExpiresIn: 0)
        defer { _ = e.box.run(["vault", "lock"]) }
        #expect(unlock(e, for: "1m").status == 0)
        let name = keyringName(e)
        e.box.write(
            "config/tokenrun/config.toml",
            "on_reauth_required = \"'\(e.python)' '\(e.box.root)/reader.py' '\(name)' join > '\(output)'\"\n")
        try e.provider.revokeUser("alice")
        let get = e.box.run(["get", "-p", "demo"])
        #expect(get.status == 77, "\(get.all)")
        #expect(e.box.read(output) == "nothing\n", "the hook reached the key: \(e.box.read(output) ?? "no output")")
        let direct = e.box.run([e.box.root + "/reader.py", name], program: e.python)
        #expect(direct.stdout.contains("read 32"), "\(direct.all)")
    }

    @Test("--for 0, over 7 days or not a duration is a usage error (64) that caches nothing")
    func usage() throws {
        let e = try setUp()
        for duration in ["0", "0s", "8d", "soon"] {
            let result = unlock(e, for: duration)
            #expect(result.status == 64, "\(duration): \(result.all)")
            #expect(result.stderr.contains("--for"), "\(result.all)")
        }
        #expect(procKeysLine(e).line == "none")
    }
}
