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
    /// A login ended without a grant: refused, expired, timed out, or a bad redirect.
    case loginFailed(profile: String, reason: String, hint: String?)
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

    // Launching
    case commandNotFound(String)
    case commandNotExecutable(String, reason: String)
    case unsafeEnvironmentValue(variable: String, profile: String)
}

extension TokenrunError {
    /// The exit status this error ends the process with.
    public var exitStatus: ExitStatus {
        switch self {
        case .usage, .invalidCredentialInput: .usage
        case .notLoggedIn, .refreshTokenDead, .loginFailed: .reconsentNeeded
        case .providerUnavailable, .refreshStillInProgress: .temporaryFailure
        case .revocationFailed(_, _, let transient): transient ? .temporaryFailure : .configuration
        default: .configuration
        }
    }

    /// The process exit code: 126/127 for a command that cannot run, as a shell does.
    public var exitCode: Int32 {
        switch self {
        case .commandNotFound: 127
        case .commandNotExecutable: 126
        default: exitStatus.rawValue
        }
    }

    /// One sentence: what failed and what is dead.
    public var summary: String {
        switch self {
        case .usage(let message):
            return message
        case .profileNotFound(let name, _):
            return "no profile named \"\(name)\""
        case .profileInvalid(let diagnostic):
            return diagnostic.description
        case .profileCycle(let chain):
            return "profiles extend each other in a cycle: \(chain.joined(separator: " -> "))"
        case .untrustedFile(let file, let what, let refusal):
            let problem =
                refusal.mode & 0o022 != 0
                ? "is writable by other users" : "belongs to another user (uid \(refusal.owner)), neither you nor root"
            let facts = "mode \(Self.octal(refusal.mode)), owner uid \(refusal.owner)"
            if refusal.isDirectory {
                return
                    "\(what) \(file) is in the directory \(refusal.path), which \(problem) (\(facts)); refusing to use it, as ssh refuses such a config"
            }
            return "\(what) \(file) \(problem) (\(facts)); refusing to use it, as ssh refuses such a config"
        case .vaultNotFound(let path):
            return "no vault at \(path)"
        case .auditUnverifiable(let vault):
            return "cannot verify the audit trail: there is no vault at \(vault), and the chain's key comes from the vault's"
        case .vaultExists(let path):
            return "a vault already exists at \(path); it was left as it is"
        case .unsafePermissions(let path, let mode, let what):
            return "\(what) \(path) is readable by other users (mode \(Self.octal(mode))); refusing to use it"
        case .wrongOwner(let path, let owner, let what):
            return "\(what) \(path) belongs to user id \(owner), not to you; refusing to use it"
        case .symbolicLink(let path, let what):
            return "\(what) \(path) is a symbolic link; refusing to follow it"
        case .noKeySource(let vault, let sealedWith, _):
            return "no key to unlock the vault \(vault) (it is sealed with \(sealedWith))"
        case .wrongKey(let source, let vault):
            return "the key from \(source) does not open the vault \(vault): wrong key file; the vault was not changed"
        case .wrongPassphrase(let source, let vault):
            return "wrong passphrase (from \(source)) for the vault \(vault); the vault was not changed"
        case .keyFileInvalid(let path, let reason):
            return "the key file \(path) is not usable: \(reason)"
        case .vaultTruncated(let path):
            return "the vault \(path) is truncated (its end is missing); it was left untouched"
        case .vaultCorrupt(let path, let reason):
            return "the vault \(path) is damaged: \(reason); it was left untouched"
        case .vaultTampered(let path, let reason):
            return "the vault \(path) has been altered: \(reason); it was left untouched"
        case .vaultVersionUnsupported(let path, let found, let supported):
            let age = found < supported ? "older" : "newer"
            return "the vault \(path) has format version \(found), \(age) than this tokenrun reads (\(supported)); it was left untouched"
        case .recordMoved(let path, let storedAs, let sealedFor):
            return
                "the vault \(path) holds a record under \(Quoting.message(storedAs)) that was sealed for \(Quoting.message(sealedFor)): it was moved or tampered with"
        case .passphraseUnavailable(let reason):
            return "no passphrase: \(reason)"
        case .emptyPassphrase(let source):
            return "the passphrase from \(source.phrase) is empty; an empty passphrase never opens or seals a vault"
        case .fileSystem(let error, let what):
            return "cannot \(error.operation) \(what) \(error.path): \(error.reason)"
        case .crypto(let message):
            return "cryptography failed: \(message)"
        case .keyringUnavailable(let error):
            return "cannot keep the vault key in the kernel keyring: \(error.operation) failed: \(error.reason)"
        case .invalidCredentialInput(let message):
            return message
        case .notLoggedIn(let profile):
            return "no credential is stored for profile \"\(profile)\""
        case .profileIncomplete(let profile, let missing):
            return "profile \"\(profile)\" cannot refresh: it lacks \(missing)"
        case .refreshTokenDead(let profile, let reason):
            return "the refresh token of \"\(profile)\" is dead: \(reason); retrying will not help"
        case .providerUnavailable(let profile, let reason, let attempts):
            return
                "cannot refresh \"\(profile)\" now and its access token has expired: \(reason)"
                + (attempts > 0 ? " (\(attempts) attempt\(attempts == 1 ? "" : "s"))" : " (another tokenrun's refresh just failed)")
        case .clientRejected(let profile, let clientID, let detail):
            return
                "the provider rejected client \"\(clientID)\" of profile \"\(profile)\" (invalid_client)\(detail.map { ": \($0)" } ?? ""); the client id or secret is wrong or was rotated"
        case .refreshRefused(let profile, let reason):
            return "the provider refused to refresh \"\(profile)\": \(reason)"
        case .networkHelperMissing(let path):
            return "cannot start tokenrun's network helper (\(path)), so no token can be fetched"
        case .loginFailed(let profile, let reason, _):
            return "login for \(profile) failed: \(reason)"
        case .noRefreshToken(let profile, _):
            return "the login for \(profile) returned no refresh token, so the credential could not be kept fresh; nothing was stored"
        case .revocationFailed(let profile, let reason, _):
            return "the local credential for \(profile) was deleted, but remote revocation failed: \(reason)"
        case .issuerMismatch(let profile, let boundEndpoint, let boundClientID, let endpoint, let clientID):
            let bound = "\(boundEndpoint)" + (boundClientID.map { " (client \(Quoting.message($0)))" } ?? "")
            let named = (endpoint ?? "no token endpoint") + (clientID.map { " (client \(Quoting.message($0)))" } ?? "")
            return
                "the credential of \"\(profile)\" was issued by \(bound), but the profile now names \(named); its refresh token was not sent"
        case .revocationElsewhere(let profile, let revocationEndpoint, let boundEndpoint):
            return
                "the revocation endpoint of \"\(profile)\" (\(revocationEndpoint)) is not on the server that issued its grant (\(boundEndpoint)); its refresh token was not sent, and the credential was kept"
        case .refreshStillInProgress(let profile, let holder, let waited):
            return
                "another tokenrun\(holder.map { " (process \($0))" } ?? "") has been refreshing \"\(profile)\" for over \(waited) s, and its access token has expired"
        case .rotatedTokenNotSaved(let profile, let reason):
            return
                "the provider rotated the refresh token of \"\(profile)\", and the new one could not be saved (\(reason)); the vault still holds the old one, which the provider may no longer accept"
        case .commandNotFound(let name):
            return "\(name): command not found"
        case .commandNotExecutable(let name, let reason):
            return "\(name): cannot execute: \(reason)"
        case .unsafeEnvironmentValue(let variable, let profile):
            return "the value for \(variable) (profile \"\(profile)\") contains a NUL byte and cannot be put in an environment variable"
        }
    }

    /// Lines with the next step, each a command or change the user can make.
    public var hints: [String] {
        switch self {
        case .usage:
            return ["tokenrun --help"]
        case .profileNotFound(let name, let searched):
            return [
                "looked in: \(searched.joined(separator: ", "))",
                "create $XDG_CONFIG_HOME/tokenrun/profiles/\(name).toml, or list the known profiles: tokenrun profiles list",
            ]
        case .profileInvalid(let diagnostic):
            if let hint = diagnostic.hint { return [hint] }
            let place = diagnostic.line.map { "line \($0) of " } ?? ""
            return ["fix \(place)\(diagnostic.file), then check it: tokenrun profiles validate \(Self.shellQuoted(diagnostic.file))"]
        case .profileCycle:
            return ["remove one of the `extends` lines in that chain"]
        case .untrustedFile(_, _, let refusal):
            var hints: [String] = []
            if refusal.mode & 0o022 != 0 { hints.append("chmod go-w \(Self.shellQuoted(refusal.path))") }
            if refusal.owner != FileSystem.currentUserID && refusal.owner != 0 {
                hints.append("sudo chown \"$(id -un)\" \(Self.shellQuoted(refusal.path))")
            }
            return hints
        case .vaultNotFound:
            return ["tokenrun vault init"]
        case .auditUnverifiable:
            return ["restore the vault and its key from a backup (or set XDG_DATA_HOME to where they are), then: tokenrun log --verify"]
        case .vaultExists:
            return ["tokenrun vault status"]
        case .unsafePermissions(let path, _, _):
            return ["chmod 600 \(Self.shellQuoted(path))"]
        case .wrongOwner(let path, _, _):
            return ["check who created \(path); tokenrun only uses files owned by the user running it"]
        case .symbolicLink(let path, _):
            return ["replace the link \(path) with the real file"]
        case .noKeySource(_, let sealedWith, let skipped):
            var hints = skipped
            if sealedWith == "a passphrase" {
                hints.append("set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase, or run tokenrun on a terminal to be asked")
            } else {
                hints.append("set TOKENRUN_KEY_FILE to the vault's key file, or restore it to its default place")
            }
            return hints
        case .wrongKey:
            return ["point TOKENRUN_KEY_FILE at the key file this vault was created with"]
        case .wrongPassphrase:
            return ["try again with the passphrase given to `tokenrun vault init --passphrase`"]
        case .keyFileInvalid(let path, _):
            return ["restore \(path) from a backup; a key file holds exactly 32 random bytes"]
        case .vaultTruncated(let path), .vaultCorrupt(let path, _), .vaultTampered(let path, _),
            .recordMoved(let path, _, _):
            return [
                "restore \(path) from a backup, or move it aside (mv \(Self.shellQuoted(path)) \(Self.shellQuoted(path + ".broken"))) and log in again: tokenrun login -p NAME"
            ]
        case .vaultVersionUnsupported(let path, let found, let supported) where found < supported:
            // No release wrote an older format for a user: nothing worth converting is in it.
            return [
                "move it aside, make a new vault and log in again: mv \(Self.shellQuoted(path)) \(Self.shellQuoted(path + ".v\(found)")) && tokenrun vault init"
            ]
        case .vaultVersionUnsupported:
            return ["use the tokenrun version that wrote this vault, or upgrade tokenrun"]
        case .passphraseUnavailable:
            return ["set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase (mode 600), or run on a terminal"]
        case .emptyPassphrase(let source):
            switch source {
            case .variable:
                return ["set TOKENRUN_PASSPHRASE to the passphrase, or unset it to be asked on a terminal: unset TOKENRUN_PASSPHRASE"]
            case .file(let path):
                return ["write the passphrase into \(path) (one line, mode 600)"]
            case .credential(let path):
                return ["put the passphrase into the systemd credential \(path) (LoadCredential= or SetCredentialEncrypted= in the unit)"]
            case .terminal:
                return ["run the command again and type the passphrase at the prompt"]
            }
        case .fileSystem(let error, _):
            return ["check that \(error.path.directoryName) exists and is writable by you"]
        case .crypto:
            return ["check that libsodium is installed correctly (apt-get install libsodium23)"]
        case .keyringUnavailable(let error) where error.isQuotaExceeded:
            return [
                "your user's key quota is full: see /proc/key-users, and raise /proc/sys/kernel/keys/maxkeys and maxbytes or remove keys you no longer need"
            ]
        case .keyringUnavailable:
            return [
                "the kernel keyring is unavailable here (a container's seccomp filter often blocks add_key and keyctl), so every call needs the key: set TOKENRUN_PASSPHRASE_FILE to a file holding the passphrase (mode 600), or use a key-file vault"
            ]
        case .invalidCredentialInput:
            return []
        case .notLoggedIn(let profile), .refreshTokenDead(let profile, _):
            return ["tokenrun login -p \(profile)", "or: tokenrun import -p \(profile) --refresh-token-stdin < token-file"]
        case .profileIncomplete(let profile, _):
            return ["tokenrun profiles show \(profile)"]
        case .providerUnavailable:
            return ["this is temporary: retry later (exit status 75)"]
        case .clientRejected(let profile, _, _):
            return ["fix oauth.client_id / the client secret of profile \(profile), then: tokenrun login -p \(profile)"]
        case .refreshRefused(let profile, _):
            return [
                "check the scopes and client of profile \(profile) (tokenrun profiles show \(profile)), then: tokenrun login -p \(profile)"
            ]
        case .networkHelperMissing:
            return ["install tokenrun-http in the same directory as tokenrun (make install does)"]
        case .loginFailed(_, _, let hint):
            return hint.map { [$0] } ?? []
        case .noRefreshToken(let profile, let fix):
            return [fix, "then: tokenrun login -p \(profile) --force"]
        case .revocationFailed:
            return [
                "the grant may still be valid at the provider: withdraw it in the provider's account settings (connected apps), or retry later: tokenrun login, then tokenrun revoke"
            ]
        case .issuerMismatch(let profile, _, _, _, _):
            return [
                "if the profile is not what you expect, check where it was loaded from: tokenrun profiles show \(profile)",
                "if the change is intended, log in to the new endpoint: tokenrun login -p \(profile)",
            ]
        case .revocationElsewhere(let profile, _, _):
            return [
                "fix oauth.revocation_endpoint of profile \(profile) (tokenrun profiles show \(profile)), or delete only the local record: tokenrun revoke -p \(profile) --local"
            ]
        case .refreshStillInProgress:
            return ["this is temporary: retry later (exit status 75)"]
        case .rotatedTokenNotSaved(let profile, _):
            return [
                "fix what stops the vault from being written, then try: tokenrun get -p \(profile) --field status",
                "if the provider refuses the old refresh token: tokenrun login -p \(profile)",
            ]
        case .commandNotFound:
            return ["check the command's name and PATH"]
        case .commandNotExecutable(let name, _):
            return ["check that \(name) is a program you may execute (chmod +x)"]
        case .unsafeEnvironmentValue(_, let profile):
            return ["use a [[file]] for this value in profile \(profile), or fix the profile's username"]
        }
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
