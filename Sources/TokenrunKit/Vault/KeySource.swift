// How the vault is unlocked, in the order DESIGN.md §2 gives (after a key that
// `tokenrun vault unlock` keeps in the kernel keyring: SealedVault+Keyring.swift):
//   1. TOKENRUN_KEY_FILE            path of a key file
//   2. $CREDENTIALS_DIRECTORY/tokenrun-vault-key   systemd credential (the key
//      file's 32 bytes for a key-file vault, the passphrase for a passphrase vault)
//   3. TOKENRUN_PASSPHRASE / TOKENRUN_PASSPHRASE_FILE
//   4. the default key file, $XDG_CONFIG_HOME/tokenrun/vault.key
//   5. a passphrase prompt on the terminal
// A source of the other kind than the vault's is passed over and named in the
// error if nothing fits. None of these variables may reach a child process:
// `KeySources.environmentVariables` lists them for the launcher to remove.
// Key bytes and passphrases are read straight into SecretBytes.

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
    /// Variables that select or carry key material; removed from every child's environment.
    public static let environmentVariables = [
        "TOKENRUN_KEY_FILE", "TOKENRUN_PASSPHRASE", "TOKENRUN_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY",
    ]
    /// `environment` without any variable that selects or carries key material.
    public static func removingKeyVariables(from environment: [String: String]) -> [String: String] {
        environment.filter { !environmentVariables.contains($0.key) }
    }

    /// The systemd credential name.
    public static let credentialName = "tokenrun-vault-key"
    public static let keyLength = 32

    /// The first source, in order, that fits a vault sealed with `kind`.
    public static func resolve(for kind: KeySourceKind, vault: String, environment: KeyEnvironment) throws -> KeyMaterial {
        let variables = environment.variables
        var skipped: [String] = []

        if let path = nonEmpty(variables["TOKENRUN_KEY_FILE"]) {
            if kind == .keyFile { return .keyFile(try readKeyFile(path), origin: "TOKENRUN_KEY_FILE (\(path))") }
            skipped.append("TOKENRUN_KEY_FILE is set, but this vault is sealed with a passphrase")
        }
        if let directory = nonEmpty(variables["CREDENTIALS_DIRECTORY"]) {
            let path = Paths.join(directory, credentialName)
            if FileSystem.exists(path) {
                let origin = "systemd credential \(credentialName)"
                switch kind {
                case .keyFile: return .keyFile(try readKeyFile(path, checkPermissions: false), origin: origin)
                case .passphrase: return .passphrase(try readPassphraseFile(path, checkPermissions: false), origin: origin)
                }
            }
        }
        if let passphrase = variables["TOKENRUN_PASSPHRASE"], !passphrase.isEmpty {
            if kind == .passphrase { return .passphrase(try SecretBytes(utf8: passphrase), origin: "TOKENRUN_PASSPHRASE") }
            skipped.append("TOKENRUN_PASSPHRASE is set, but this vault is sealed with a key file")
        }
        if let path = nonEmpty(variables["TOKENRUN_PASSPHRASE_FILE"]) {
            if kind == .passphrase {
                return .passphrase(try readPassphraseFile(path), origin: "TOKENRUN_PASSPHRASE_FILE (\(path))")
            }
            skipped.append("TOKENRUN_PASSPHRASE_FILE is set, but this vault is sealed with a key file")
        }
        let defaultKey = environment.paths.defaultKeyFile
        if kind == .keyFile, FileSystem.exists(defaultKey) || (try? FileSystem.status(defaultKey)) != nil {
            return .keyFile(try readKeyFile(defaultKey), origin: "the key file \(defaultKey)")
        }
        if kind == .passphrase, let prompt = environment.prompt,
            let passphrase = try prompt("Passphrase for the tokenrun vault \(vault): ")
        {
            return .passphrase(passphrase, origin: "the terminal")
        }
        if kind == .keyFile { skipped.append("the default key file \(defaultKey) does not exist") }
        throw TokenrunError.noKeySource(vault: vault, sealedWith: kind.phrase, skipped: skipped)
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

    /// Reads a passphrase file; one trailing newline is not part of the passphrase.
    public static func readPassphraseFile(_ path: String, checkPermissions: Bool = true) throws -> SecretBytes {
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
        guard !bytes.isEmpty else { throw TokenrunError.passphraseUnavailable(reason: "the passphrase file \(path) is empty") }
        return try SecretBytes(consuming: &bytes)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
