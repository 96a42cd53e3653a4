// `vault init` and unlocking take key sources from one resolver, in the order
// docs/vault.md gives; an empty passphrase is said to be empty.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: key sources for vault init and unlocking")
struct KeySourceTests {
    /// 32 bytes that differ from any key tokenrun makes.
    static func key(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8($0) &* 7 &+ seed } }

    /// Whether `vault status` unlocks the vault with `environment` (and nothing else).
    static func unlocks(_ box: CLISandbox, _ environment: [String: String]) -> Bool {
        let status = box.run(["vault", "status"], environment: environment)
        return status.status == 0 && status.stdout.contains("unlocks:      yes")
    }

    @Test("vault init with only the systemd credential tokenrun-vault-key seals the vault with it, and a launch unlocks with it")
    func initWithCredential() throws {
        let e = try EndToEnd()
        let credentials = e.box.root + "/credentials"
        e.box.write(path: credentials + "/tokenrun-vault-key", bytes: Self.key(1), mode: 0o400)
        let env = ["CREDENTIALS_DIRECTORY": credentials]
        let made = e.box.run(["vault", "init"], environment: env)
        #expect(made.status == 0, "\(made.all)")
        #expect(made.stdout.contains("sealed with the systemd credential tokenrun-vault-key"), "\(made.all)")
        #expect(access(e.box.keyPath, F_OK) != 0, "a default key file was made instead")
        let seed = try e.provider.seed(accessExpiresIn: 0)
        let imported = e.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token, environment: env)
        #expect(imported.status == 0, "\(imported.all)")
        let launched = e.launch(environment: env)
        #expect(launched.status == 0, "\(launched.all)")
        #expect(launched.stdout.contains("\"status\": 200"))
        let without = e.launch()
        #expect(without.status == 78, "\(without.all)")
    }

    @Test("vault init takes the first key source in the order unlocking uses")
    func initOrder() throws {
        // TOKENRUN_KEY_FILE before the systemd credential.
        let first = CLISandbox()
        let credentials = first.root + "/credentials"
        first.write(path: credentials + "/tokenrun-vault-key", bytes: Self.key(1), mode: 0o400)
        let named = first.root + "/named.key"
        let both = ["CREDENTIALS_DIRECTORY": credentials, "TOKENRUN_KEY_FILE": named]
        #expect(first.run(["vault", "init"], environment: both).status == 0)
        #expect(Self.unlocks(first, ["TOKENRUN_KEY_FILE": named]))
        #expect(!Self.unlocks(first, ["CREDENTIALS_DIRECTORY": credentials]))

        // The systemd credential before a default key file that exists already.
        let second = CLISandbox()
        let credentials2 = second.root + "/credentials"
        second.write(path: credentials2 + "/tokenrun-vault-key", bytes: Self.key(1), mode: 0o400)
        second.write(path: second.keyPath, bytes: Self.key(2))
        let made = second.run(["vault", "init"], environment: ["CREDENTIALS_DIRECTORY": credentials2])
        #expect(made.status == 0, "\(made.all)")
        #expect(Self.unlocks(second, ["CREDENTIALS_DIRECTORY": credentials2]))
        #expect(!Self.unlocks(second, [:]), "sealed with the default key file, not the credential")

        // TOKENRUN_PASSPHRASE before TOKENRUN_PASSPHRASE_FILE.
        let third = CLISandbox()
        let file = third.root + "/passphrase"
        third.write("passphrase", "from the file 1\n")
        let passphrases = ["TOKENRUN_PASSPHRASE": "from the variable 2", "TOKENRUN_PASSPHRASE_FILE": file]
        let sealed = third.run(["vault", "init", "--passphrase", "--kdf-cost", "interactive"], environment: passphrases)
        #expect(sealed.status == 0, "\(sealed.all)")
        #expect(Self.unlocks(third, ["TOKENRUN_PASSPHRASE": "from the variable 2"]))
        #expect(!Self.unlocks(third, ["TOKENRUN_PASSPHRASE_FILE": file]))
    }

    @Test("an empty passphrase (variable, file or prompt) is said to be empty, not wrong, and exits 78")
    func emptyPassphrase() throws {
        let e = try EndToEnd()
        let empty = ["TOKENRUN_PASSPHRASE": ""]
        let refused = e.box.run(["vault", "init", "--passphrase"], environment: empty)
        #expect(refused.status == 78, "\(refused.all)")
        #expect(refused.stderr.contains("tokenrun: error: the passphrase from TOKENRUN_PASSPHRASE is empty"), "\(refused.all)")
        #expect(refused.stderr.contains("tokenrun: hint: "), "\(refused.all)")
        #expect(access(e.box.vaultPath, F_OK) != 0)

        try e.passphraseLogin("correct horse battery staple 44")

        let fromVariable = e.box.run(["get", "-p", "demo"], environment: empty)
        #expect(fromVariable.status == 78, "\(fromVariable.all)")
        #expect(fromVariable.stderr.contains("the passphrase from TOKENRUN_PASSPHRASE is empty"), "\(fromVariable.all)")
        #expect(!fromVariable.stderr.contains("wrong passphrase"))

        e.box.write("empty-passphrase", "\n")
        let fromFile = e.box.run(["get", "-p", "demo"], environment: ["TOKENRUN_PASSPHRASE_FILE": e.box.root + "/empty-passphrase"])
        #expect(fromFile.status == 78, "\(fromFile.all)")
        #expect(
            fromFile.stderr.contains("the passphrase from the passphrase file \(e.box.root)/empty-passphrase is empty"), "\(fromFile.all)")

        let driver =
            TerminalDriver.prelude + """
                pid,fd=pty.fork()
                if pid==0:
                    os.execv(sys.argv[1],[sys.argv[1],'get','-p','demo'])
                pump(b'assphrase',20)
                time.sleep(0.2)
                os.write(fd,b'\\n')
                finish(pid,20)
                """
        let atPrompt = e.box.start(["-c", driver, CLISandbox.binary], program: e.python).wait()
        #expect(atPrompt.stdout.contains("the passphrase from the terminal is empty"), "\(atPrompt.all)")
        #expect(atPrompt.stdout.contains("EXIT 78"), "\(atPrompt.all)")
        #expect(!atPrompt.stdout.contains("wrong passphrase"))
    }
}
