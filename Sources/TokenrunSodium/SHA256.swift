// SHA-256 (crypto_hash_sha256), needed for PKCE's S256 code challenge
// (RFC 7636 §4.2). Only for public values derived from one-time secrets.
import CSodium

/// SHA-256 of a byte string.
public enum SHA256 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        try? Sodium.ensureInitialized()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        digest.withUnsafeMutableBytes { out in
            _ = crypto_hash_sha256(out.bindMemory(to: UInt8.self).baseAddress!, message, UInt64(message.count))
        }
        return digest
    }
}
