import Foundation
import Testing

@testable import TokenrunSupport

/// Every case of TokenrunError, each once: the test below checks the list against the
/// enum's declaration, so a new case fails it until it is added here (and so checked).
@Suite("TokenrunError: every case")
struct TokenrunErrorCasesTests {
    static let samples: [TokenrunError] = [
        .usage("u"), .profileNotFound(name: "n", searched: ["/a"]),
        .profileInvalid(ProfileDiagnostic(file: "/f.toml", line: 3, message: "m", hint: "h")),
        .profileCycle(["a", "b", "a"]),
        .untrustedFile(
            file: "/p/a.toml", what: "the profile",
            TrustedFile.Refusal(path: "/p/a.toml", mode: 0o100666, owner: 0, isDirectory: false)),
        .vaultNotFound(path: "/v"), .vaultExists(path: "/v"),
        .unsafePermissions(path: "/my vault", mode: 0o644, what: "the vault"),
        .wrongOwner(path: "/v", owner: 7, what: "the vault"), .symbolicLink(path: "/v", what: "the vault"),
        .noKeySource(vault: "/v", sealedWith: "a key file", skipped: ["TOKENRUN_KEY_FILE: missing"]),
        .wrongKey(source: "s", vault: "/v"), .wrongPassphrase(source: "s", vault: "/v"),
        .keyFileInvalid(path: "/k", reason: "r"), .vaultTruncated(path: "/v"),
        .vaultCorrupt(path: "/v", reason: "r"), .vaultTampered(path: "/v", reason: "r"),
        .vaultVersionUnsupported(path: "/v", found: 2, supported: 1),
        .recordMoved(path: "/v", storedAs: "a", sealedFor: "b"), .passphraseUnavailable(reason: "r"),
        .emptyPassphrase(source: .terminal),
        .fileSystem(SystemCallError(operation: "open", path: "/x/y", errno: 13), what: "the vault"),
        .crypto("c"), .auditUnverifiable(vault: "/v"),
        .keyringUnavailable(KeyringError(operation: "add_key", errno: EDQUOT)),
        .invalidCredentialInput("i"), .notLoggedIn(profile: "p"),
        .profileIncomplete(profile: "p", missing: "token_endpoint"),
        .refreshTokenDead(profile: "p", reason: "invalid_grant"),
        .providerUnavailable(profile: "p", reason: "connection refused", attempts: 3),
        .clientRejected(profile: "p", clientID: "c", detail: "invalid_client"),
        .refreshRefused(profile: "p", reason: "HTTP 403"), .networkHelperMissing(path: "/bin/tokenrun-http"),
        .sharedVaultURLInvalid(url: "mysql://***@db/x", reason: "it is not a PostgreSQL URL (postgresql://… or postgres://…)"),
        .sharedVaultUnavailable(location: "postgresql://***@db:5432/tokenrun", reason: "Connection refused"),
        .sharedVaultRefused(
            location: "postgresql://***@db:5432/tokenrun", reason: "permission denied for table tokenrun_records",
            hint: "grant tokenrun's role what the README's fleet mode lists (SELECT, INSERT, UPDATE on its tables)"),
        .sharedVaultTampered(location: "postgresql://***@db:5432/tokenrun", reason: "the record for \"demo\" fails authentication"),
        .sharedVaultNotConfigured(vault: "/home/u/.local/share/tokenrun/vault", sharedWith: "postgresql://***@db:5432/tokenrun"),
        .sharedVaultNotUpdated(
            location: "postgresql://***@db:5432/tokenrun",
            reason: "cannot reach the shared vault postgresql://***@db:5432/tokenrun: Connection refused"),
        .databaseHelperMissing(path: "/bin/tokenrun-pg"),
        .certificateRejected(host: "login.example.com:443", problem: "unknown issuer", trust: "the system's trusted CAs"),
        .caFileUnusable(trust: "SSL_CERT_FILE=/nosuch.pem", why: "error setting certificate file: /nosuch.pem"),
        .proxyAuthenticationFailed(proxy: "http://***@proxy:3128 (HTTPS_PROXY)", why: "it asked for a user name and password (HTTP 407)"),
        .loginFailed(profile: "p", reason: "access_denied", hint: "h"),
        .loginUnavailable(profile: "p", reason: "cannot reach the token endpoint https://a/token: connection refused"),
        .noRefreshToken(profile: "p", fix: "f"),
        .revocationFailed(profile: "p", reason: "HTTP 503", transient: true),
        .issuerMismatch(
            profile: "p", boundEndpoint: "https://a/token", boundClientID: "c", endpoint: "https://b/token", clientID: "c"),
        .revocationElsewhere(profile: "p", revocationEndpoint: "https://b/revoke", boundEndpoint: "https://a/token"),
        .refreshStillInProgress(profile: "p", holder: "pid 42", waitedSeconds: 60),
        .rotatedTokenNotSaved(profile: "p", reason: "disk full"), .commandNotFound("nosuch"),
        .commandNotExecutable("/etc/passwd", reason: "Permission denied"),
        .unsafeEnvironmentValue(variable: "TOKEN", profile: "p"),
    ]

    static func caseName(_ error: TokenrunError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    /// The case names of `public enum TokenrunError`, read from its declaration.
    static func declaredCases() throws -> [String] {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "Sources/TokenrunSupport/TokenrunError.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let start = try #require(text.range(of: "public enum TokenrunError"))
        var names: [String] = []
        for line in text[start.upperBound...].split(separator: "\n") {
            if line == "}" { break }
            guard line.hasPrefix("    case ") else { continue }
            let name = line.dropFirst("    case ".count).prefix { $0.isLetter || $0.isNumber }
            names.append(String(name))
        }
        return names
    }

    @Test("the samples are every declared case, each once")
    func everyCase() throws {
        let declared = try Self.declaredCases()
        #expect(declared.count > 40)
        let sampled = Self.samples.map(Self.caseName)
        #expect(sampled.count == Set(sampled).count, "a case is listed twice")
        #expect(
            Set(sampled) == Set(declared), "missing: \(Set(declared).subtracting(sampled)), unknown: \(Set(sampled).subtracting(declared))")
    }

    @Test("every case has a one-line summary, single-line hints, and a documented exit status")
    func everyCaseText() {
        for error in Self.samples {
            let name = Self.caseName(error)
            #expect(!error.summary.isEmpty, "\(name)")
            #expect(!error.summary.contains("\n"), "\(name): the summary is one line")
            for hint in error.hints {
                #expect(!hint.isEmpty && !hint.contains("\n"), "\(name): hint \(hint)")
            }
            #expect([64, 75, 77, 78, 126, 127].contains(error.exitCode), "\(name): exit \(error.exitCode)")
        }
    }

    @Test("the exit statuses the README documents: 75 retry later, 77 log in again, 126/127 as a shell")
    func exitStatuses() {
        let byName = Dictionary(uniqueKeysWithValues: Self.samples.map { (Self.caseName($0), $0.exitCode) })
        for name in ["providerUnavailable", "refreshStillInProgress", "revocationFailed"] { #expect(byName[name] == 75, "\(name)") }
        for name in ["notLoggedIn", "refreshTokenDead", "loginFailed"] { #expect(byName[name] == 77, "\(name)") }
        for name in ["usage", "invalidCredentialInput"] { #expect(byName[name] == 64, "\(name)") }
        #expect(byName["commandNotFound"] == 127)
        #expect(byName["commandNotExecutable"] == 126)
        for name in ["clientRejected", "wrongKey", "vaultCorrupt", "issuerMismatch", "rotatedTokenNotSaved"] {
            #expect(byName[name] == 78, "\(name)")
        }
    }
}

@Suite("TokenrunError: hints quote paths as the export quoter does")
struct TokenrunErrorQuotingTests {
    /// What /bin/sh makes of `word`: the one argument it expands to.
    static func shell(_ word: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '%s' " + word]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test(
        "a path with a quote followed by a combining mark comes back whole from the shell, in the hint and in export alike",
        arguments: ["/tmp/a'\u{301}; echo injected '", "/tmp/it's mine", "/tmp/plain", "/tmp/a\u{301}'b"])
    func combiningMark(path: String) throws {
        let hint = try #require(TokenrunError.unsafePermissions(path: path, mode: 0o644, what: "the vault").hints.first)
        let word = String(hint.dropFirst("chmod 600 ".count))
        #expect(try Self.shell(word) == path, "\(hint)")
        #expect(try Self.shell(Quoting.sh(path)) == path)
    }
}
