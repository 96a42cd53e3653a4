// The only folder that imports CSodium. Every libsodium return code is checked
// here; C types never leave this folder. Secret bytes live in `SecretBytes`
// (guarded, locked memory, zeroed when released); plain `[UInt8]` is only used
// for public values (public keys, nonces, ciphertexts, salts).
import CSodium

/// Errors from the libsodium layer. Mapped to `TokenrunError` by callers.
public enum SodiumError: Error, Sendable, Equatable {
    /// `sodium_init` failed: the library cannot be used at all.
    case initializationFailed
    /// Locked memory could not be allocated (RLIMIT_MEMLOCK or out of memory).
    case allocationFailed(Int)
    /// A ciphertext failed authentication: wrong key, or the bytes were altered.
    case authenticationFailed
    /// A key or buffer had the wrong size.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Argon2id could not run with the requested limits (usually memory).
    case passwordHashFailed
}

/// Entry point to libsodium: initialisation and the few free functions.
public enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    /// Initialises libsodium once; every wrapper calls it first.
    public static func ensureInitialized() throws(SodiumError) {
        guard initialized else { throw .initializationFailed }
    }

    /// `count` bytes from the system CSPRNG.
    public static func randomBytes(_ count: Int) throws(SodiumError) -> [UInt8] {
        try ensureInitialized()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return bytes
    }

    /// Overwrites a buffer with zeros in a way the optimiser keeps.
    public static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }

    /// Constant-time comparison of two equal-length byte strings.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0 }
        }
    }
}
