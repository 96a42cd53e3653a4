// How the vault is unlocked, in the order docs/vault.md gives (after a key that
// `tokenrun vault unlock` keeps in the kernel keyring: SealedVault+Keyring.swift):
//   1. TOKENRUN_KEY_FILE            path of a key file
//   2. $CREDENTIALS_DIRECTORY/tokenrun-vault-key   systemd credential (the key
//      file's 32 bytes for a key-file vault, the passphrase for a passphrase vault)
//   3. TOKENRUN_PASSPHRASE / TOKENRUN_PASSPHRASE_FILE
//   4. the default key file, $XDG_CONFIG_HOME/tokenrun/vault.key
//   5. a passphrase prompt on the terminal
// A source of the other kind than the vault's is passed over and named in the
// error if nothing fits. `vault init` (and a vault made by a first import or
// login) walks the same list, `firstSource`, for the kind it makes: a key file
// named there is created if absent, a systemd credential is used as it is.
// An empty passphrase (variable, file, credential or prompt) is an error of
// its own, never a wrong passphrase. None of these variables may reach a child process:
// `KeyVariables.names` lists them for the launcher to remove.
// Key bytes and passphrases are read straight into SecretBytes.
import TokenrunSodium
import TokenrunSupport

/// Where key material may come from, for one process.
public struct KeyEnvironment: Sendable {
    public var variables: [String: String]
    public var paths: Paths
    /// Asks for a passphrase on the terminal; nil when there is no terminal.
    public var prompt: (@Sendable (String) throws -> SecretBytes?)?

    public init(variables: [String: String], prompt: (@Sendable (String) throws -> SecretBytes?)? = nil) {
        self.variables = variables
        self.paths = Paths(environment: variables)
        self.prompt = prompt
    }

    /// Where a new key-file vault keeps its key: TOKENRUN_KEY_FILE, else the default path.
    public var keyFileForNewVault: String {
        variables["TOKENRUN_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? paths.defaultKeyFile
    }
}

/// Key material from one source, before it is turned into a wrapping key.
public enum KeyMaterial: Sendable {
    case keyFile(SecretBytes, origin: String)
    case passphrase(SecretBytes, origin: String)

    /// Where it came from, for messages ("TOKENRUN_KEY_FILE (/path)").
    public var origin: String {
        switch self {
        case .keyFile(_, let origin), .passphrase(_, let origin): origin
        }
    }
}

/// The ordered list of key sources.
public enum KeySources {
    /// The systemd credential name.
    public static let credentialName = "tokenrun-vault-key"
    public static let keyLength = 32

    /// A key source found in the environment, before anything is read from it.
    enum Source {
        /// TOKENRUN_KEY_FILE or the default key file (a new vault may create it).
        case keyFile(path: String, origin: String)
        /// The systemd credential: a key file's 32 bytes or a passphrase, as the vault's kind says.
        case credential(path: String)
        case passphraseVariable(String)
        case passphraseFile(path: String)
        case prompt
    }

    /// The first source, in the documented order, for a vault sealed with `kind`; nil when
    /// none is there. `skipped` says which sources of the other kind were passed over, and
    /// `emptyVariable` whether TOKENRUN_PASSPHRASE was set to nothing. For a new vault the
    /// default key file counts even where it does not exist yet.
    static func firstSource(
        for kind: KeySourceKind, environment: KeyEnvironment, newVault: Bool = false
    ) -> (source: Source?, skipped: [String], emptyVariable: Bool) {
        let variables = environment.variables
        var skipped: [String] = []
        let emptyVariable = variables["TOKENRUN_PASSPHRASE"] == ""
        if let path = nonEmpty(variables["TOKENRUN_KEY_FILE"]) {
            if kind == .keyFile { return (.keyFile(path: path, origin: "TOKENRUN_KEY_FILE (\(path))"), [], emptyVariable) }
            skipped.append("TOKENRUN_KEY_FILE is set, but this vault is sealed with a passphrase")
        }
        if let directory = nonEmpty(variables["CREDENTIALS_DIRECTORY"]) {
            let path = Paths.join(directory, credentialName)
            if FileSystem.exists(path) { return (.credential(path: path), skipped, emptyVariable) }
        }
        if let passphrase = nonEmpty(variables["TOKENRUN_PASSPHRASE"]) {
            if kind == .passphrase { return (.passphraseVariable(passphrase), skipped, emptyVariable) }
            skipped.append("TOKENRUN_PASSPHRASE is set, but this vault is sealed with a key file")
        }
        if let path = nonEmpty(variables["TOKENRUN_PASSPHRASE_FILE"]) {
            if kind == .passphrase { return (.passphraseFile(path: path), skipped, emptyVariable) }
            skipped.append("TOKENRUN_PASSPHRASE_FILE is set, but this vault is sealed with a key file")
        }
        let defaultKey = environment.paths.defaultKeyFile
        if kind == .keyFile {
            if newVault || FileSystem.exists(defaultKey) || (try? FileSystem.status(defaultKey)) != nil {
                return (.keyFile(path: defaultKey, origin: "the key file \(defaultKey)"), skipped, emptyVariable)
            }
            skipped.append("the default key file \(defaultKey) does not exist")
            return (nil, skipped, emptyVariable)
        }
        return (environment.prompt == nil ? nil : .prompt, skipped, emptyVariable)
    }

    /// The first source, in order, that fits a vault sealed with `kind`.
    public static func resolve(for kind: KeySourceKind, vault: String, environment: KeyEnvironment) throws -> KeyMaterial {
        let (source, skipped, emptyVariable) = firstSource(for: kind, environment: environment)
        switch source {
        case .keyFile(let path, let origin)?:
            return .keyFile(try readKeyFile(path), origin: origin)
        case .credential(let path)?:
            let origin = "systemd credential \(credentialName)"
            switch kind {
            case .keyFile: return .keyFile(try readKeyFile(path, checkPermissions: false), origin: origin)
            case .passphrase: return .passphrase(try readPassphraseFile(path, checkPermissions: false, credential: true), origin: origin)
            }
        case .passphraseVariable(let passphrase)?:
            return .passphrase(try SecretBytes(utf8: passphrase), origin: "TOKENRUN_PASSPHRASE")
        case .passphraseFile(let path)?:
            return .passphrase(try readPassphraseFile(path), origin: "TOKENRUN_PASSPHRASE_FILE (\(path))")
        case .prompt?:
            if let passphrase = try environment.prompt?("Passphrase for the tokenrun vault \(vault): ") {
                return .passphrase(passphrase, origin: "the terminal")
            }
        case nil:
            break
        }
        if emptyVariable && kind == .passphrase { throw TokenrunError.emptyPassphrase(source: .variable) }
        throw TokenrunError.noKeySource(vault: vault, sealedWith: kind.phrase, skipped: skipped)
    }

    /// How a new vault of `kind` is sealed, from the first source in the same order as
    /// `resolve`, and where that is, for messages. On a terminal the passphrase is asked twice.
    public static func newVaultKey(
        _ kind: KeySourceKind, cost: PasswordHash.Cost = .moderate, environment: KeyEnvironment
    ) throws -> (key: NewVaultKey, origin: String) {
        let (source, _, emptyVariable) = firstSource(for: kind, environment: environment, newVault: true)
        switch source {
        case .keyFile(let path, _)?:
            return (.keyFile(path: path), "the key file \(path)")
        case .credential(let path)?:
            let origin = "the systemd credential \(credentialName)"
            switch kind {
            case .keyFile: return (.key(try readKeyFile(path, checkPermissions: false)), origin)
            case .passphrase:
                return (.passphrase(try readPassphraseFile(path, checkPermissions: false, credential: true), cost: cost), origin)
            }
        case .passphraseVariable(let passphrase)?:
            return (.passphrase(try SecretBytes(utf8: passphrase), cost: cost), "TOKENRUN_PASSPHRASE")
        case .passphraseFile(let path)?:
            return (.passphrase(try readPassphraseFile(path), cost: cost), "the passphrase file \(path)")
        case .prompt?:
            if let first = try environment.prompt?("New vault passphrase: ") {
                guard let second = try environment.prompt?("Repeat the passphrase: "), first.isEqual(to: second) else {
                    throw TokenrunError.passphraseUnavailable(reason: "the two passphrases differ")
                }
                return (.passphrase(first, cost: cost), "the terminal")
            }
        case nil:
            break
        }
        if emptyVariable { throw TokenrunError.emptyPassphrase(source: .variable) }
        throw TokenrunError.passphraseUnavailable(
            reason:
                "not on a terminal, and none of TOKENRUN_PASSPHRASE, TOKENRUN_PASSPHRASE_FILE or the systemd credential \(credentialName) is set"
        )
    }

    /// Reads a 32-byte key file after checking its permissions.
    public static func readKeyFile(_ path: String, checkPermissions: Bool = true) throws -> SecretBytes {
        if checkPermissions { try SecretFilePolicy.check(path, what: "the key file") }
        var bytes: [UInt8]
        do {
            guard let read = try FileSystem.readFile(path, limit: 4096) else {
                throw TokenrunError.keyFileInvalid(path: path, reason: "it does not exist")
            }
            bytes = read
        } catch let error as SystemCallError {
            if error.errno == 27 { throw TokenrunError.keyFileInvalid(path: path, reason: "it is far larger than 32 bytes") }
            throw TokenrunError.fileSystem(error, what: "the key file")
        }
        guard bytes.count == keyLength else {
            let count = bytes.count
            Sodium.zero(&bytes)
            throw TokenrunError.keyFileInvalid(path: path, reason: "it holds \(count) bytes, not \(keyLength)")
        }
        return try SecretBytes(consuming: &bytes)
    }

    /// Reads a passphrase file (or, with `credential`, the systemd credential); one trailing
    /// newline is not part of the passphrase.
    public static func readPassphraseFile(_ path: String, checkPermissions: Bool = true, credential: Bool = false) throws -> SecretBytes {
        if checkPermissions { try SecretFilePolicy.check(path, what: "the passphrase file") }
        var bytes: [UInt8]
        do {
            guard let read = try FileSystem.readFile(path, limit: 65536) else {
                throw TokenrunError.passphraseUnavailable(reason: "the passphrase file \(path) does not exist")
            }
            bytes = read
        } catch let error as SystemCallError {
            throw TokenrunError.fileSystem(error, what: "the passphrase file")
        }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw TokenrunError.emptyPassphrase(source: credential ? .credential(path) : .file(path)) }
        return try SecretBytes(consuming: &bytes)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
