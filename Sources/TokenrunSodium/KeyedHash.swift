// Keyed BLAKE2b (crypto_generichash with a key): derives purpose-bound subkeys
// and authenticates whole files. Outputs that are not secret (MACs, key
// fingerprints) are plain arrays; derived keys are SecretBytes.
import CSodium

/// Keyed BLAKE2b hashing.
public enum KeyedHash {
    /// The 32-byte keyed hash of `message` under `key`.
    public static func hash(_ message: [UInt8], key: SecretBytes, length: Int = 32) throws -> [UInt8] {
        try Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: length)
        let status = key.withUnsafeBytes { k in
            out.withUnsafeMutableBytes { o in
                crypto_generichash(
                    o.bindMemory(to: UInt8.self).baseAddress!, o.count, message, UInt64(message.count),
                    k.bindMemory(to: UInt8.self).baseAddress!, k.count)
            }
        }
        guard status == 0 else { throw SodiumError.invalidLength(what: "hash key", expected: 32, actual: key.count) }
        return out
    }

    /// A subkey bound to `purpose`, so one key never serves two uses.
    public static func deriveSubkey(from key: SecretBytes, purpose: String) throws -> SecretBytes {
        var bytes = try hash(Array(purpose.utf8), key: key)
        return try SecretBytes(consuming: &bytes)
    }
}

extension KeyedHash {
    /// Unkeyed BLAKE2b, for fingerprints of values that are shown to users.
    public static func unkeyed(_ message: [UInt8], length: Int = 32) -> [UInt8] {
        guard (try? Sodium.ensureInitialized()) != nil else { return [] }
        var out = [UInt8](repeating: 0, count: length)
        _ = out.withUnsafeMutableBytes { o in
            crypto_generichash(o.bindMemory(to: UInt8.self).baseAddress!, o.count, message, UInt64(message.count), nil, 0)
        }
        return out
    }
}
