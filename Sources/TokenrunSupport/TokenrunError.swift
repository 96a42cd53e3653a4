// The one user-facing error type. Every lower-level failure (sodium, system
// calls, TOML, JSON) is mapped into one of these cases at the edge of the
// module that saw it. The executable prints `summary` as `tokenrun: error: …`
// and each hint as `tokenrun: hint: …`. No case ever carries a secret: paths,
// profile names, variable names and key fingerprints only.

import TokenrunSodium

/// Where a profile problem was found.
public struct ProfileDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let message: String
    public let hint: String?

    public init(file: String, line: Int?, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
    }

    /// `file:line: message`, the form editors jump to.
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Every error tokenrun reports to its user.
public enum TokenrunError: Error, Sendable, Equatable {
    case usage(String)

    // Profiles
    case profileNotFound(name: String, searched: [String])
    case profileInvalid(ProfileDiagnostic)
    case profileCycle([String])
    /// A profile or config.toml (or its directory) that another user could have written.
    case untrustedFile(file: String, what: String, TrustedFile.Refusal)

    // Vault and keys
    case vaultNotFound(path: String)
    case vaultExists(path: String)
    case unsafePermissions(path: String, mode: UInt32, what: String)
    case wrongOwner(path: String, owner: UInt32, what: String)
    case symbolicLink(path: String, what: String)
    case noKeySource(vault: String, sealedWith: String, skipped: [String])
    case wrongKey(source: String, vault: String)
    case wrongPassphrase(source: String, vault: String)
    case keyFileInvalid(path: String, reason: String)
    case vaultTruncated(path: String)
    case vaultCorrupt(path: String, reason: String)
    case vaultTampered(path: String, reason: String)
    case vaultVersionUnsupported(path: String, found: Int, supported: Int)
    case recordMoved(path: String, storedAs: String, sealedFor: String)
    case passphraseUnavailable(reason: String)
    /// A passphrase source that holds nothing (told apart from a wrong passphrase).
    case emptyPassphrase(source: PassphraseSource)
    case fileSystem(SystemCallError, what: String)
    case crypto(String)
    /// `log --verify` without the vault whose key chains the trail.
    case auditUnverifiable(vault: String)
    /// `vault unlock` could not put the key in the kernel keyring.
    case keyringUnavailable(KeyringError)

    // Credentials and refreshing
    case invalidCredentialInput(String)
    case notLoggedIn(profile: String)
    case profileIncomplete(profile: String, missing: String)
    case refreshTokenDead(profile: String, reason: String)
    case providerUnavailable(profile: String, reason: String, attempts: Int)
    case clientRejected(profile: String, clientID: String, detail: String?)
    case refreshRefused(profile: String, reason: String)
    case networkHelperMissing(path: String)
    /// A TLS certificate failed verification; `problem` is the reason, `trust` the CAs it was checked against.
    case certificateRejected(host: String, problem: String, trust: String)
    /// The CA file (or directory) named for trust cannot be loaded.
    case caFileUnusable(trust: String, why: String)
    /// The proxy wants credentials it was not given (HTTP 407); `proxy` is shown with them as `***`.
    case proxyAuthenticationFailed(proxy: String, why: String)
    /// A login ended without a grant: refused, expired, timed out, or a bad redirect.
    case loginFailed(profile: String, reason: String, hint: String?)
    /// A login could not reach its provider, or got no usable answer: worth trying again later.
    case loginUnavailable(profile: String, reason: String)
    /// A login's answer lacked the refresh token the profile needs.
    case noRefreshToken(profile: String, fix: String)
    /// The remote revocation failed; the local record was deleted anyway.
    case revocationFailed(profile: String, reason: String, transient: Bool)
    /// The profile names another token endpoint or client than the one the grant was issued for.
    case issuerMismatch(profile: String, boundEndpoint: String, boundClientID: String?, endpoint: String?, clientID: String?)
    /// `revoke` would send the refresh token to another origin than the issuer's.
    case revocationElsewhere(profile: String, revocationEndpoint: String, boundEndpoint: String)
    /// Another process kept refreshing this credential for longer than a refresh may take.
    case refreshStillInProgress(profile: String, holder: String?, waitedSeconds: Int)
    /// The provider rotated the refresh token and the vault write of the new one failed.
    case rotatedTokenNotSaved(profile: String, reason: String)
    /// A fleet's shared vault (TOKENRUN_VAULT_URL, `[vault] url`); `location` is always shown redacted.
    case sharedVaultURLInvalid(url: String, reason: String)
    case sharedVaultUnavailable(location: String, reason: String)
    case sharedVaultRefused(location: String, reason: String, hint: String)
    case sharedVaultTampered(location: String, reason: String)
    /// This host's vault is a fleet's copy, and this process was given no shared vault URL.
    case sharedVaultNotConfigured(vault: String, sharedWith: String)
    /// The change was written to this host's vault, not to the shared one.
    case sharedVaultNotUpdated(location: String, reason: String)
    case databaseHelperMissing(path: String)

    // Launching
    case commandNotFound(String)
    case commandNotExecutable(String, reason: String)
    case unsafeEnvironmentValue(variable: String, profile: String)
}

extension TokenrunError {
    /// What one error tells its user and how it ends the process, written together so
    /// that a case's summary, hints and exit status are read (and added) in one place.
    struct Parts {
        /// One sentence: what failed and what is dead.
        let summary: String
        /// Lines with the next step, each a command or change the user can make.
        let hints: [String]
        let exitStatus: ExitStatus
        /// Only for a command that cannot run (126/127, as a shell does); otherwise the status's code.
        let exitCode: Int32?

        init(_ summary: String, _ hints: [String], _ exitStatus: ExitStatus = .configuration, exitCode: Int32? = nil) {
            self.summary = summary
            self.hints = hints
            self.exitStatus = exitStatus
            self.exitCode = exitCode
        }
    }

    /// The exit status this error ends the process with.
    public var exitStatus: ExitStatus { parts.exitStatus }

    /// The process exit code: 126/127 for a command that cannot run, as a shell does.
    public var exitCode: Int32 {
        let parts = parts
        return parts.exitCode ?? parts.exitStatus.rawValue
    }

    /// One sentence: what failed and what is dead.
    public var summary: String { parts.summary }

    /// Lines with the next step, each a command or change the user can make.
    public var hints: [String] { parts.hints }

    /// Every case's summary, hints and exit status.
    var parts: Parts {
        switch self {
        case .usage(let message):
            return Parts(message, ["tokenrun --help"], .usage)
        case .profileNotFound(let name, let searched):
            return Parts(
                "no profile named \"\(name)\"",
                [
                    "looked in: \(searched.joined(separator: ", "))",
                    "create $XDG_CONFIG_HOME/tokenrun/profiles/\(name).toml, or list the known profiles: tokenrun profiles list",
                ])
        case .profileInvalid(let diagnostic):
            let place = diagnostic.line.map { "line \($0) of " } ?? ""
            return Parts(
                diagnostic.description,
                [
                    diagnostic.hint
                        ?? "fix \(place)\(diagnostic.file), then check it: tokenrun profiles validate \(Self.shellQuoted(diagnostic.file))"
                ])
        case .profileCycle(let chain):
            return Parts(
                "profiles extend each other in a cycle: \(chain.joined(separator: " -> "))",
                ["remove one of the `extends` lines in that chain"])
        case .untrustedFile(let file, let what, let refusal):
            let problem =
                refusal.mode & 0o022 != 0
                ? "is writable by other users" : "belongs to another user (uid \(refusal.owner)), neither you nor root"
            let facts = "mode \(Self.octal(refusal.mode)), owner uid \(refusal.owner)"
            let summary =
                refusal.isDirectory
                ? "\(what) \(file) is in the directory \(refusal.path), which \(problem) (\(facts)); refusing to use it, as ssh refuses such a config"
                : "\(what) \(file) \(problem) (\(facts)); refusing to use it, as ssh refuses such a config"
            var hints: [String] = []
            if refusal.mode & 0o022 != 0 { hints.append("chmod go-w \(Self.shellQuoted(refusal.path))") }
            if refusal.owner != FileSystem.currentUserID && refusal.owner != 0 {
                hints.append("sudo chown \"$(id -un)\" \(Self.shellQuoted(refusal.path))")
            }
            return Parts(summary, hints)
        case .vaultNotFound(let path):
            return Parts("no vault at \(path)", ["tokenrun vault init"])
        case .auditUnverifiable(let vault):
            return Parts(
                "cannot verify the audit trail: there is no vault at \(vault), and the chain's key comes from the vault's",
                ["restore the vault and its key from a backup (or set XDG_DATA_HOME to where they are), then: tokenrun log --verify"])
        case .vaultExists(let path):
            return Parts("a vault already exists at \(path); it was left as it is", ["tokenrun vault status"])
        case .unsafePermissions(let path, let mode, let what):
            return Parts(
                "\(what) \(path) is readable by other users (mode \(Self.octal(mode))); refusing to use it",
                ["chmod 600 \(Self.shellQuoted(path))"])
        case .wrongOwner(let path, let owner, let what):
            return Parts(
                "\(what) \(path) belongs to user id \(owner), not to you; refusing to use it",
                ["check who created \(path); tokenrun only uses files owned by the user running it"])
        case .symbolicLink(let path, let what):
            return Parts("\(what) \(path) is a symbolic link; refusing to follow it", ["replace the link \(path) with the real file"])
        case .noKeySource(let vault, let sealedWith, let skipped):
            let fix =
                sealedWith == "a passphrase"
                ? "set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase, or run tokenrun on a terminal to be asked"
                : "set TOKENRUN_KEY_FILE to the vault's key file, or restore it to its default place"
            return Parts("no key to unlock the vault \(vault) (it is sealed with \(sealedWith))", skipped + [fix])
        case .wrongKey(let source, let vault):
            return Parts(
                "the key from \(source) does not open the vault \(vault): wrong key file; the vault was not changed",
                ["point TOKENRUN_KEY_FILE at the key file this vault was created with"])
        case .wrongPassphrase(let source, let vault):
            return Parts(
                "wrong passphrase (from \(source)) for the vault \(vault); the vault was not changed",
                ["try again with the passphrase given to `tokenrun vault init --passphrase`"])
        case .keyFileInvalid(let path, let reason):
            return Parts(
                "the key file \(path) is not usable: \(reason)", ["restore \(path) from a backup; a key file holds exactly 32 random bytes"]
            )
        case .vaultTruncated(let path):
            return Parts(
                "the vault \(path) is truncated (its end is missing); it was left untouched", [Self.restoreVaultHint(path)])
        case .vaultCorrupt(let path, let reason):
            return Parts("the vault \(path) is damaged: \(reason); it was left untouched", [Self.restoreVaultHint(path)])
        case .vaultTampered(let path, let reason):
            return Parts("the vault \(path) has been altered: \(reason); it was left untouched", [Self.restoreVaultHint(path)])
        case .vaultVersionUnsupported(let path, let found, let supported) where found < supported:
            // No release wrote an older format for a user: nothing worth converting is in it.
            return Parts(
                "the vault \(path) has format version \(found), older than this tokenrun reads (\(supported)); it was left untouched",
                [
                    "move it aside, make a new vault and log in again: mv \(Self.shellQuoted(path)) \(Self.shellQuoted(path + ".v\(found)")) && tokenrun vault init"
                ])
        case .vaultVersionUnsupported(let path, let found, let supported):
            return Parts(
                "the vault \(path) has format version \(found), newer than this tokenrun reads (\(supported)); it was left untouched",
                ["use the tokenrun version that wrote this vault, or upgrade tokenrun"])
        case .recordMoved(let path, let storedAs, let sealedFor):
            return Parts(
                "the vault \(path) holds a record under \(Quoting.message(storedAs)) that was sealed for \(Quoting.message(sealedFor)): it was moved or tampered with",
                [Self.restoreVaultHint(path)])
        case .passphraseUnavailable(let reason):
            return Parts(
                "no passphrase: \(reason)",
                ["set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase (mode 600), or run on a terminal"])
        case .emptyPassphrase(let source):
            let hint =
                switch source {
                case .variable:
                    "set TOKENRUN_PASSPHRASE to the passphrase, or unset it to be asked on a terminal: unset TOKENRUN_PASSPHRASE"
                case .file(let path):
                    "write the passphrase into \(path) (one line, mode 600)"
                case .credential(let path):
                    "put the passphrase into the systemd credential \(path) (LoadCredential= or SetCredentialEncrypted= in the unit)"
                case .terminal:
                    "run the command again and type the passphrase at the prompt"
                }
            return Parts("the passphrase from \(source.phrase) is empty; an empty passphrase never opens or seals a vault", [hint])
        case .fileSystem(let error, let what):
            return Parts(
                "cannot \(error.operation) \(what) \(error.path): \(error.reason)",
                ["check that \(error.path.directoryName) exists and is writable by you"])
        case .crypto(let message):
            return Parts("cryptography failed: \(message)", ["check that libsodium is installed correctly (apt-get install libsodium23)"])
        case .keyringUnavailable(let error):
            let hint =
                error.isQuotaExceeded
                ? "your user's key quota is full: see /proc/key-users, and raise /proc/sys/kernel/keys/maxkeys and maxbytes or remove keys you no longer need"
                : "the kernel keyring is unavailable here (a container's seccomp filter often blocks add_key and keyctl), so every call needs the key: set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase (mode 600), or use a key-file vault"
            return Parts("cannot keep the vault key in the kernel keyring: \(error.operation) failed: \(error.reason)", [hint])
        case .invalidCredentialInput(let message):
            return Parts(message, [], .usage)
        case .notLoggedIn(let profile):
            return Parts("no credential is stored for profile \"\(profile)\"", Self.loginHints(profile), .reconsentNeeded)
        case .profileIncomplete(let profile, let missing):
            return Parts("profile \"\(profile)\" cannot refresh: it lacks \(missing)", ["tokenrun profiles show \(profile)"])
        case .refreshTokenDead(let profile, let reason):
            return Parts(
                "the refresh token of \"\(profile)\" is dead: \(reason); retrying will not help", Self.loginHints(profile), .reconsentNeeded
            )
        case .providerUnavailable(let profile, let reason, let attempts):
            return Parts(
                "cannot refresh \"\(profile)\" now and its access token has expired: \(reason)"
                    + (attempts > 0 ? " (\(attempts) attempt\(attempts == 1 ? "" : "s"))" : " (another tokenrun's refresh just failed)"),
                [Self.retryLaterHint], .temporaryFailure)
        case .clientRejected(let profile, let clientID, let detail):
            return Parts(
                "the provider rejected client \"\(clientID)\" of profile \"\(profile)\" (invalid_client)\(detail.map { ": \($0)" } ?? ""); the client id or secret is wrong or was rotated",
                ["fix oauth.client_id / the client secret of profile \(profile), then: tokenrun login -p \(profile)"])
        case .refreshRefused(let profile, let reason):
            return Parts(
                "the provider refused to refresh \"\(profile)\": \(reason)",
                [
                    "check the scopes and client of profile \(profile) (tokenrun profiles show \(profile)), then: tokenrun login -p \(profile)"
                ])
        case .sharedVaultURLInvalid(let url, let reason):
            return Parts(
                "the shared vault URL \(url) cannot be used: \(reason)",
                [
                    "write it as libpq does: postgresql://USER@HOST:5432/DBNAME (the password in ~/.pgpass or PGPASSFILE), in TOKENRUN_VAULT_URL or [vault] url of config.toml"
                ])
        case .sharedVaultUnavailable(let location, let reason):
            return Parts(
                "cannot reach the shared vault \(location): \(reason)",
                [
                    "check that the database is up and this host may reach it, with the same URL: psql \"$TOKENRUN_VAULT_URL\" -c 'select 1'",
                    Self.retryLaterHint,
                ],
                .temporaryFailure)
        case .sharedVaultRefused(let location, let reason, let hint):
            return Parts("the shared vault \(location) refused: \(reason)", [hint])
        case .sharedVaultTampered(let location, let reason):
            return Parts(
                "the shared vault \(location) holds what this vault did not seal: \(reason); nothing was taken from it",
                [
                    "check who can write its tables; restore them from a backup, or push a good copy from a host: tokenrun vault push"
                ])
        case .sharedVaultNotConfigured(let vault, let sharedWith):
            return Parts(
                "the vault \(vault) is a copy of the shared vault \(sharedWith), but this process has no TOKENRUN_VAULT_URL or [vault] url: refreshing alone could send a refresh token another host already used",
                [
                    "give this job the fleet's URL too (a cron line or unit does not see your shell's exports): TOKENRUN_VAULT_URL=… or [vault] url in config.toml",
                    "or take this host out of the fleet: rm \(Self.shellQuoted(vault + ".shared"))",
                ])
        case .sharedVaultNotUpdated(let location, let reason):
            return Parts(
                "stored on this host only: the shared vault \(location) did not take the change (\(reason))",
                [
                    "once it is reachable, copy it there: tokenrun vault push --replace (other hosts keep the shared vault's record until then)"
                ],
                .temporaryFailure)
        case .databaseHelperMissing(let path):
            return Parts(
                "cannot start tokenrun's database helper (\(path)), so the shared vault cannot be reached",
                ["install tokenrun-pg in the same directory as tokenrun (make install does)"])
        case .networkHelperMissing(let path):
            return Parts(
                "cannot start tokenrun's network helper (\(path)), so no token can be fetched",
                ["install tokenrun-http in the same directory as tokenrun (make install does)"])
        case .certificateRejected(let host, let problem, let trust):
            return Parts(
                "the certificate of \(host) is not trusted: \(problem) (checked against \(trust)); nothing was sent",
                Self.certificateHints(host: host, problem: problem))
        case .caFileUnusable(let trust, let why):
            return Parts(
                "cannot load the trusted CAs of \(trust): \(why); nothing was sent",
                [
                    "point it at a readable PEM file of CA certificates (ca_file = \"/path/to/ca.pem\" in the profile's [oauth], or SSL_CERT_FILE)"
                ])
        case .proxyAuthenticationFailed(let proxy, let why):
            return Parts(
                "the proxy \(proxy) refused the request: \(why); nothing reached the endpoint",
                [
                    "give the proxy's user name and password in its URL, percent-encoded: https_proxy=http://USER:PASSWORD@host:port (or [network] proxy in config.toml)"
                ])
        case .loginFailed(let profile, let reason, let hint):
            return Parts("login for \(profile) failed: \(reason)", hint.map { [$0] } ?? [], .reconsentNeeded)
        case .loginUnavailable(let profile, let reason):
            return Parts(
                "cannot log in to \(profile) now: \(reason); nothing was stored",
                ["this is temporary: run tokenrun login -p \(profile) again later (exit status 75)"], .temporaryFailure)
        case .noRefreshToken(let profile, let fix):
            return Parts(
                "the login for \(profile) returned no refresh token, so the credential could not be kept fresh; nothing was stored",
                [fix, "then: tokenrun login -p \(profile) --force"])
        case .revocationFailed(let profile, let reason, let transient):
            return Parts(
                "the local credential for \(profile) was deleted, but remote revocation failed: \(reason)",
                [
                    "the grant may still be valid at the provider: withdraw it in the provider's account settings (connected apps), or retry later: tokenrun login, then tokenrun revoke"
                ],
                transient ? .temporaryFailure : .configuration)
        case .issuerMismatch(let profile, let boundEndpoint, let boundClientID, let endpoint, let clientID):
            let bound = "\(boundEndpoint)" + (boundClientID.map { " (client \(Quoting.message($0)))" } ?? "")
            let named = (endpoint ?? "no token endpoint") + (clientID.map { " (client \(Quoting.message($0)))" } ?? "")
            return Parts(
                "the credential of \"\(profile)\" was issued by \(bound), but the profile now names \(named); its refresh token was not sent",
                [
                    "if the profile is not what you expect, check where it was loaded from: tokenrun profiles show \(profile)",
                    "if the change is intended, log in to the new endpoint: tokenrun login -p \(profile)",
                ])
        case .revocationElsewhere(let profile, let revocationEndpoint, let boundEndpoint):
            return Parts(
                "the revocation endpoint of \"\(profile)\" (\(revocationEndpoint)) is not on the server that issued its grant (\(boundEndpoint)); its refresh token was not sent, and the credential was kept",
                [
                    "fix oauth.revocation_endpoint of profile \(profile) (tokenrun profiles show \(profile)), or delete only the local record: tokenrun revoke -p \(profile) --local"
                ])
        case .refreshStillInProgress(let profile, let holder, let waited):
            return Parts(
                "another tokenrun\(holder.map { " (process \($0))" } ?? "") has been refreshing \"\(profile)\" for over \(waited) s, and its access token has expired",
                [Self.retryLaterHint], .temporaryFailure)
        case .rotatedTokenNotSaved(let profile, let reason):
            return Parts(
                "the provider rotated the refresh token of \"\(profile)\", and the new one could not be saved (\(reason)); the vault still holds the old one, which the provider may no longer accept",
                [
                    "fix what stops the vault from being written, then try: tokenrun get -p \(profile) --field status",
                    "if the provider refuses the old refresh token: tokenrun login -p \(profile)",
                ])
        case .commandNotFound(let name):
            return Parts("\(name): command not found", ["check the command's name and PATH"], exitCode: 127)
        case .commandNotExecutable(let name, let reason):
            return Parts(
                "\(name): cannot execute: \(reason)", ["check that \(name) is a program you may execute (chmod +x)"], exitCode: 126)
        case .unsafeEnvironmentValue(let variable, let profile):
            return Parts(
                "the value for \(variable) (profile \"\(profile)\") contains a NUL byte and cannot be put in an environment variable",
                ["use a [[file]] for this value in profile \(profile), or fix the profile's username"])
        }
    }

    /// What to do about a certificate, by its problem.
    private static func certificateHints(host: String, problem: String) -> [String] {
        let trustCA =
            "if a private or company CA signs it, trust that CA: ca_file = \"/path/to/ca.pem\" in the profile's [oauth] table or in [network] of ~/.config/tokenrun/config.toml, or export SSL_CERT_FILE=/path/to/ca.pem"
        switch problem {
        case "expired", "not yet valid":
            return [
                "the certificate of \(host) is \(problem): check this machine's clock (timedatectl status); if it is right, the server's certificate must be renewed by its administrators"
            ]
        case "name mismatch":
            return [
                "the certificate is for another name: check the endpoint URL in the profile (tokenrun profiles show NAME), or whether a proxy intercepts TLS",
                trustCA,
            ]
        default:
            return [trustCA, "see what curl says: curl -v https://\(host)/"]
        }
    }

    private static let retryLaterHint = "this is temporary: retry later (exit status 75)"

    private static func loginHints(_ profile: String) -> [String] {
        ["tokenrun login -p \(profile)", "or: tokenrun import -p \(profile) --refresh-token-stdin < token-file"]
    }

    /// For a vault that cannot be read as it is.
    private static func restoreVaultHint(_ path: String) -> String {
        "restore \(path) from a backup, or move it aside (mv \(shellQuoted(path)) \(shellQuoted(path + ".broken"))) and log in again: tokenrun login -p NAME"
    }

    package static func octal(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Quotes a path for pasting into a POSIX shell when it needs it.
    package static func shellQuoted(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { scalar in
            (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar)
                || "/._-+:=@%,".unicodeScalars.contains(scalar)
        }
        if safe && !text.isEmpty { return text }
        // The export quoter, which works on Unicode scalars: a quote followed by a combining
        // mark is one Character, but still a quote to the shell.
        return Quoting.sh(text)
    }
}

/// Runs a libsodium call, mapping its errors to `TokenrunError.crypto`.
package func crypto<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SodiumError {
        throw TokenrunError.crypto("\(error)")
    }
}
