// Argon2id (crypto_pwhash, ALG_ARGON2ID13) turns a passphrase into a 32-byte
// wrapping key. The cost is deliberate; the salt and limits are stored in the
// vault header so that the same key can be derived again.
import CSodium

/// Argon2id key derivation from a passphrase.
public enum PasswordHash {
    public static let saltLength = Int(crypto_pwhash_saltbytes())

    /// Cost presets, from libsodium's constants.
    public enum Cost: String, Sendable, CaseIterable {
        case interactive, moderate, sensitive

        public var opsLimit: UInt64 {
            switch self {
            case .interactive: UInt64(crypto_pwhash_opslimit_interactive())
            case .moderate: UInt64(crypto_pwhash_opslimit_moderate())
            case .sensitive: UInt64(crypto_pwhash_opslimit_sensitive())
            }
        }

        public var memLimit: UInt64 {
            switch self {
            case .interactive: UInt64(crypto_pwhash_memlimit_interactive())
            case .moderate: UInt64(crypto_pwhash_memlimit_moderate())
            case .sensitive: UInt64(crypto_pwhash_memlimit_sensitive())
            }
        }
    }

    /// Limits outside these bounds are refused when read from a file, so a
    /// tampered header cannot make tokenrun allocate absurd memory.
    public static func limitsAreSane(opsLimit: UInt64, memLimit: UInt64) -> Bool {
        opsLimit >= UInt64(crypto_pwhash_opslimit_min()) && opsLimit <= 64
            && memLimit >= 8192 && memLimit <= 4 << 30
    }

    /// Derives `length` bytes from `passphrase` and `salt`.
    public static func deriveKey(
        passphrase: SecretBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64, length: Int = 32
    ) throws -> SecretBytes {
        try Sodium.ensureInitialized()
        guard salt.count == saltLength else {
            throw SodiumError.invalidLength(what: "Argon2id salt", expected: saltLength, actual: salt.count)
        }
        var status: Int32 = -1
        let key = try SecretBytes(count: length) { out in
            status = passphrase.withUnsafeBytes { pw in
                crypto_pwhash(
                    out.bindMemory(to: UInt8.self).baseAddress!, UInt64(out.count),
                    pw.bindMemory(to: CChar.self).baseAddress!, UInt64(pw.count),
                    salt, opsLimit, Int(memLimit), crypto_pwhash_alg_argon2id13())
            }
        }
        guard status == 0 else { throw SodiumError.passwordHashFailed }
        return key
    }
}
