import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("tokenrun vault, import and status")
struct VaultCLITests {
    let box = CLISandbox()

    @Test("vault init creates a key-file vault, 0600, and a second init exits 78 leaving it as it was")
    func vaultInit() {
        let first = box.run(["vault", "init"])
        #expect(first.status == 0, "\(first.all)")
        #expect(first.stdout.contains(box.vaultPath))
        #expect(first.stdout.contains(box.keyPath))
        var st = stat()
        #expect(stat(box.vaultPath, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(stat(box.keyPath, &st) == 0 && st.st_mode & 0o777 == 0o600 && st.st_size == 32)
        let before = box.read(box.vaultPath)
        let second = box.run(["vault", "init"])
        #expect(second.status == 78)
        #expect(second.stderr.contains("tokenrun: error: a vault already exists"))
        #expect(box.read(box.vaultPath) == before)
    }

    @Test("vault status names the path, the key source and the count, never a token")
    func vaultStatus() {
        let none = box.run(["vault", "status"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("not created yet"))
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-abc-123\n").status == 0)
        let status = box.run(["vault", "status"])
        #expect(status.status == 0, "\(status.all)")
        #expect(status.stdout.contains(box.vaultPath))
        #expect(status.stdout.contains("a key file"))
        #expect(status.stdout.contains("credentials:  1"))
        #expect(!status.all.contains("rt-abc-123"))
        let json = box.run(["vault", "status", "--json"])
        #expect(json.stdout.contains("\"key_source\" : \"key_file\""))
        #expect(json.stdout.contains("\"credentials\" : 1"))
    }

    @Test("a passphrase vault is created from TOKENRUN_PASSPHRASE_FILE and a wrong passphrase exits 78")
    func passphraseVault() {
        box.write("pass", "open sesame\n")
        let env = ["TOKENRUN_PASSPHRASE_FILE": box.root + "/pass"]
        let made = box.run(["vault", "init", "--passphrase", "--kdf-cost", "interactive"], environment: env)
        #expect(made.status == 0, "\(made.all)")
        #expect(made.stdout.contains("passphrase"))
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1", environment: env).status == 0)
        #expect(box.run(["status", "-p", "acme"], environment: env).stdout.contains("connected"))

        let wrong = box.run(["status"], environment: ["TOKENRUN_PASSPHRASE": "open sesamy"])
        #expect(wrong.status == 78)
        #expect(wrong.stderr.contains("wrong passphrase"))
        #expect(!wrong.all.contains("open sesam"))

        let missing = box.run(["status"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("no key to unlock"))
        #expect(missing.stderr.contains("tokenrun: hint: set TOKENRUN_PASSPHRASE_FILE"))
    }

    @Test("import --batch-stdin stores every line in one write, refuses a bad batch whole, and never echoes a token")
    func batchImport() {
        for name in ["acme", "beta", "gamma"] { box.writeProfile(name, acmeProfile) }
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-old\n").status == 0)
        let lines = """
            {"profile": "acme", "refresh_token": "rt-batch-a"}

            {"profile": "beta", "refresh_token": "rt-batch-b", "client_secret": "cs-batch-b"}
            {"profile": "gamma", "refresh_token": "rt-batch-c"}
            """
        let result = box.run(["import", "--batch-stdin"], stdin: lines)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("stored 3 credentials (1 replaced)"))
        #expect(!result.all.contains("rt-batch"))
        let status = box.run(["vault", "status"])
        #expect(status.stdout.contains("credentials:  3"), "\(status.all)")
        #expect(box.run(["status", "-p", "beta"]).stdout.contains("beta"))

        // One bad line refuses the batch whole, naming the line but not its contents.
        let before = box.read(box.vaultPath)
        for (bad, expected) in [
            ("{\"profile\": \"acme\", \"refresh_token\": \"rt-new-a\"}\nnot json rt-leak-1\n", "line 2 is not a JSON object"),
            (
                "{\"profile\": \"acme\", \"refresh_token\": \"rt-new-a\"}\n{\"profile\": \"acme\", \"refresh_token\": \"rt-leak-2\"}\n",
                "line 2: profile acme appears twice"
            ),
            ("{\"profile\": \"nosuch\", \"refresh_token\": \"rt-leak-3\"}\n", "nosuch"),
            ("{\"profile\": \"acme\", \"refresh_token\": \"rt leak 4\"}\n", "line 1: the refresh token contains spaces"),
            ("{\"profile\": \"acme\", \"token\": \"rt-leak-5\"}\n", "line 1 is not a JSON object"),
            ("\n\n", "no credentials on standard input"),
            ("{\"profile\": \"1//rt-leak-6\", \"refresh_token\": \"acme\"}\n", "line 1: the \"profile\" value is not a valid profile name"),
            ("{\"profile\": \"acme\", \"refresh_token\": \"x\", \"rt-leak-7\": \"y\"}\n", "line 1 has a member other than"),
        ] {
            let refused = box.run(["import", "--batch-stdin"], stdin: bad)
            #expect(refused.status != 0, "\(bad): \(refused.all)")
            #expect(refused.stderr.contains(expected), "\(bad): \(refused.stderr)")
            #expect(!refused.all.contains("rt-leak") && !refused.all.contains("rt leak"), "\(refused.all)")
            #expect(box.read(box.vaultPath) == before, "\(bad) changed the vault")
        }
        let mixed = box.run(["import", "--batch-stdin", "-p", "acme"], stdin: lines)
        #expect(mixed.status == 64, "\(mixed.all)")
    }

    @Test("vault init --passphrase without a terminal or variable exits 78 saying how to give one")
    func passphraseMissing() {
        let result = box.run(["vault", "init", "--passphrase"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("no passphrase"))
        #expect(!pathExists(box.vaultPath))
    }

    @Test("import stores a token read from stdin, creates the vault saying where, and never echoes the token")
    func importCreatesVault() {
        box.writeProfile("acme", acmeProfile)
        let result = box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-very-secret-42\n")
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("created a new vault at \(box.vaultPath)"))
        #expect(result.stderr.contains(box.keyPath))
        #expect(!result.all.contains("rt-very-secret-42"))
        #expect(!(box.read(box.vaultPath) ?? "").contains("rt-very-secret-42"))
        let status = box.run(["status", "--json"])
        #expect(status.status == 0)
        #expect(status.stdout.contains("\"state\" : \"connected\""))
        #expect(status.stdout.contains("\"has_refresh_token\" : true"))
        #expect(!status.all.contains("rt-very-secret-42"))
        // A second import says it replaced the credential and creates nothing.
        let again = box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-2")
        #expect(again.stdout.contains("replaced"))
        #expect(!again.stderr.contains("created a new vault"))
    }

    @Test("import refuses a missing profile (78), a token in argv (64) and empty input (64) before touching the vault")
    func importFailures() {
        let missing = box.run(["import", "-p", "nope", "--refresh-token-stdin"], stdin: "rt")
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("no profile named \"nope\""))
        #expect(!pathExists(box.vaultPath))

        box.writeProfile("acme", acmeProfile)
        let noFlag = box.run(["import", "-p", "acme"])
        #expect(noFlag.status == 64)
        let extra = box.run(["import", "-p", "acme", "--refresh-token-stdin", "rt-in-argv"])
        #expect(extra.status == 64)
        let empty = box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "\n\n")
        #expect(empty.status == 64)
        #expect(empty.stderr.contains("no refresh token"))
        let spaced = box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "two words\n")
        #expect(spaced.status == 64)
        #expect(!pathExists(box.vaultPath))

        box.writeProfile("broken", "[oauth]\ntoken_endpont = \"https://x.example/t\"\n")
        let invalid = box.run(["import", "-p", "broken", "--refresh-token-stdin"], stdin: "rt")
        #expect(invalid.status == 78)
        #expect(invalid.stderr.contains("broken.toml:2"))
    }

    @Test("import with --client-secret-stdin seals the secret from the second line")
    func importClientSecret() {
        box.writeProfile("acme", acmeProfile)
        let result = box.run(["import", "-p", "acme", "--refresh-token-stdin", "--client-secret-stdin"], stdin: "rt-1\ncs-2\n")
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("client secret"))
        #expect(!(box.read(box.vaultPath) ?? "").contains("cs-2"))
        let short = box.run(["import", "-p", "acme", "--refresh-token-stdin", "--client-secret-stdin"], stdin: "rt-1\n")
        #expect(short.status == 64)
    }

    @Test("status lists not_logged_in for a profile without a credential and exits 78 for an unknown one")
    func statusStates() {
        box.writeProfile("acme", acmeProfile)
        let result = box.run(["status"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("acme"))
        #expect(result.stdout.contains("not_logged_in"))
        let unknown = box.run(["status", "-p", "nope"])
        #expect(unknown.status == 78)
        #expect(unknown.stderr.contains("tokenrun: hint:"))
    }

    @Test("concurrent imports from many processes lose no credential")
    func concurrentImports() async {
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["vault", "init"]).status == 0)
        let names = (0..<12).map { "p\($0)" }
        for name in names { box.writeProfile(name, acmeProfile) }
        let box = self.box
        let statuses = await withTaskGroup(of: Int32.self) { group in
            for name in names {
                group.addTask { box.run(["import", "-p", name, "--refresh-token-stdin"], stdin: "rt-\(name)").status }
            }
            return await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 0 })
        let status = box.run(["vault", "status", "--json"])
        #expect(status.stdout.contains("\"credentials\" : 12"), "\(status.all)")
    }

    @Test("concurrent first imports create exactly one vault and lose nothing")
    func concurrentCreation() async {
        let names = (0..<8).map { "q\($0)" }
        for name in names { box.writeProfile(name, acmeProfile) }
        let box = self.box
        let results = await withTaskGroup(of: CLIResult.self) { group in
            for name in names {
                group.addTask { box.run(["import", "-p", name, "--refresh-token-stdin"], stdin: "rt-\(name)") }
            }
            return await group.reduce(into: [CLIResult]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.all))")
        #expect(results.filter { $0.stderr.contains("created a new vault") }.count == 1)
        #expect(box.run(["vault", "status", "--json"]).stdout.contains("\"credentials\" : 8"))
    }

    @Test("a damaged vault makes status and import exit 78 and is never rewritten")
    func damagedVault() {
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1").status == 0)
        let original = box.read(box.vaultPath)!
        let damaged = String(original.dropLast(30))
        box.write("data/tokenrun/vault", damaged)
        for arguments in [["status"], ["import", "-p", "acme", "--refresh-token-stdin"], ["vault", "status"]] {
            let result = box.run(arguments, stdin: "rt-2")
            #expect(result.status == 78, "\(arguments): \(result.all)")
            #expect(result.stderr.contains("left untouched"))
            #expect(box.read(box.vaultPath) == damaged)
        }
    }

    @Test("a vault readable by others exits 78 with the exact chmod")
    func unsafeMode() {
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1").status == 0)
        chmod(box.vaultPath, 0o644)
        let result = box.run(["status"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("tokenrun: hint: chmod 600 \(box.vaultPath)"))
    }

    @Test("a wrong TOKENRUN_KEY_FILE exits 78 naming it")
    func wrongKey() {
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1").status == 0)
        box.write("other.key", String(repeating: "k", count: 32))
        let result = box.run(["status"], environment: ["TOKENRUN_KEY_FILE": box.root + "/other.key"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("does not open the vault"))
        #expect(result.stderr.contains("TOKENRUN_KEY_FILE"))
    }
}

let acmeProfile = """
    [oauth]
    token_endpoint = "https://auth.acme.example/oauth/token"
    client_id = "tokenrun-cli"
    """

func pathExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

@Suite("tokenrun without its network helper")
struct HelperMissingTests {
    @Test("a refresh with tokenrun-http missing exits 78 saying to install it, at once and without retries")
    func helperMissing() {
        let box = CLISandbox()
        box.writeProfile("acme", acmeProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1").status == 0)
        // A copy of tokenrun alone in a directory, with no tokenrun-http beside it or on PATH.
        _ = system("mkdir -p '\(box.root)/lonely' && cp '\(CLISandbox.binary)' '\(box.root)/lonely/tokenrun'")
        let result = box.start(["get", "-p", "acme"], program: box.root + "/lonely/tokenrun").wait()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("network helper"))
        #expect(result.stderr.contains("tokenrun: hint: install tokenrun-http"))
        #expect(box.run(["status", "-p", "acme"]).stdout.contains("connected"))
    }
}
