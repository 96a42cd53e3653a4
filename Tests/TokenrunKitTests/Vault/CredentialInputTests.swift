import Testing
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("credential input and key variables")
struct CredentialInputTests {
    @Test("import input: the token alone, trimmed; a second line only with the client secret flag")
    func parse() throws {
        let plain = try CredentialImport.parse(Array("  rt-1 \r\n".utf8), expectClientSecret: false)
        #expect(plain.refreshToken.value == "rt-1")
        #expect(plain.clientSecret == nil)
        let both = try CredentialImport.parse(Array("rt-1\ncs-2\n".utf8), expectClientSecret: true)
        #expect(both.clientSecret?.value == "cs-2")
        #expect(throws: TokenrunError.self) { try CredentialImport.parse(Array("rt-1\ncs-2\n".utf8), expectClientSecret: false) }
        #expect(throws: TokenrunError.self) { try CredentialImport.parse(Array("rt-1\n".utf8), expectClientSecret: true) }
        #expect(throws: TokenrunError.self) { try CredentialImport.parse([], expectClientSecret: false) }
        #expect(throws: TokenrunError.self) { try CredentialImport.parse(Array("a b".utf8), expectClientSecret: false) }
        #expect(throws: TokenrunError.self) { try CredentialImport.parse([0x72, 0x01, 0x74], expectClientSecret: false) }
        #expect(throws: TokenrunError.self) { try CredentialImport.parse([0xff, 0xfe], expectClientSecret: false) }
    }

    @Test("input errors are usage errors that never quote the input")
    func inputErrorsDoNotQuote() {
        do {
            _ = try CredentialImport.parse(Array("secret-part1 secret-part2".utf8), expectClientSecret: false)
        } catch let error as TokenrunError {
            #expect(error.exitStatus == .usage)
            #expect(!error.summary.contains("secret-part"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("every key-source variable is removed from an environment meant for a child")
    func scrub() {
        let env = [
            "TOKENRUN_KEY_FILE": "/k", "TOKENRUN_PASSPHRASE": "pw", "TOKENRUN_PASSPHRASE_FILE": "/p",
            "CREDENTIALS_DIRECTORY": "/run/credentials/x", "PATH": "/bin", "HOME": "/root",
        ]
        #expect(KeyVariables.removed(from: env) == ["PATH": "/bin", "HOME": "/root"])
    }

    @Test("every error has a summary, an exit status of 64, 77 or 78, and hints without secrets")
    func errorTexts() {
        let errors: [TokenrunError] = [
            .usage("u"), .profileNotFound(name: "n", searched: ["/a"]),
            .profileInvalid(ProfileDiagnostic(file: "/f.toml", line: 3, message: "m", hint: "h")),
            .profileCycle(["a", "b", "a"]), .vaultNotFound(path: "/v"), .vaultExists(path: "/v"),
            .unsafePermissions(path: "/my vault", mode: 0o644, what: "the vault"),
            .wrongOwner(path: "/v", owner: 7, what: "the vault"), .symbolicLink(path: "/v", what: "the vault"),
            .noKeySource(vault: "/v", sealedWith: "a key file", skipped: []), .wrongKey(source: "s", vault: "/v"),
            .wrongPassphrase(source: "s", vault: "/v"), .keyFileInvalid(path: "/k", reason: "r"),
            .vaultTruncated(path: "/v"), .vaultCorrupt(path: "/v", reason: "r"), .vaultTampered(path: "/v", reason: "r"),
            .vaultVersionUnsupported(path: "/v", found: 2, supported: 1),
            .recordMoved(path: "/v", storedAs: "a", sealedFor: "b"), .passphraseUnavailable(reason: "r"),
            .emptyPassphrase(source: .terminal),
            .fileSystem(SystemCallError(operation: "open", path: "/x/y", errno: 13), what: "the vault"),
            .crypto("c"), .invalidCredentialInput("i"), .notLoggedIn(profile: "p"),
        ]
        for error in errors {
            #expect(!error.summary.isEmpty)
            #expect([ExitStatus.usage, .reconsentNeeded, .configuration].contains(error.exitStatus))
        }
        #expect(TokenrunError.unsafePermissions(path: "/my vault", mode: 0o644, what: "the vault").hints == ["chmod 600 '/my vault'"])
        #expect(TokenrunError.unsafePermissions(path: "/v", mode: 0o644, what: "the vault").summary.contains("0644"))
        #expect(TokenrunError.notLoggedIn(profile: "p").exitStatus == .reconsentNeeded)
        #expect(TokenrunError.profileInvalid(ProfileDiagnostic(file: "/f.toml", line: 3, message: "m")).summary == "/f.toml:3: m")
        #expect(
            TokenrunError.fileSystem(SystemCallError(operation: "open", path: "/x/y", errno: 13), what: "the vault").summary.contains(
                "Permission denied"))
    }
}
