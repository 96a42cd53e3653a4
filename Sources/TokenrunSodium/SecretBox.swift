// XSalsa20-Poly1305 secret boxes (crypto_secretbox_easy) with a random nonce
// stored in front of the ciphertext. Used to wrap the vault's secret key under
// the key-file key or the Argon2id-derived key.
import CSodium

/// Symmetric authenticated encryption under a 32-byte key.
public enum SecretBox {
    public static let keyLength = Int(crypto_secretbox_keybytes())
    public static let nonceLength = Int(crypto_secretbox_noncebytes())
    public static let macLength = Int(crypto_secretbox_macbytes())

    /// Encrypts `plaintext`; the result is nonce ‖ ciphertext.
    public static func seal(_ plaintext: SecretBytes, key: SecretBytes) throws -> [UInt8] {
        try checkKey(key)
        let nonce = try Sodium.randomBytes(nonceLength)
        var box = [UInt8](repeating: 0, count: plaintext.count + macLength)
        let status = plaintext.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                box.withUnsafeMutableBytes { c in
                    crypto_secretbox_easy(
                        c.bindMemory(to: UInt8.self).baseAddress!, m.bindMemory(to: UInt8.self).baseAddress!,
                        UInt64(m.count), nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard status == 0 else { throw SodiumError.authenticationFailed }
        return nonce + box
    }

    /// Decrypts nonce ‖ ciphertext; throws `authenticationFailed` for a wrong key or altered bytes.
    public static func open(_ sealed: [UInt8], key: SecretBytes) throws -> SecretBytes {
        try checkKey(key)
        guard sealed.count >= nonceLength + macLength else { throw SodiumError.authenticationFailed }
        let nonce = Array(sealed[..<nonceLength])
        let box = Array(sealed[nonceLength...])
        var status: Int32 = -1
        let plain = try SecretBytes(count: box.count - macLength) { m in
            status = key.withUnsafeBytes { k in
                box.withUnsafeBytes { c in
                    crypto_secretbox_open_easy(
                        m.bindMemory(to: UInt8.self).baseAddress!, c.bindMemory(to: UInt8.self).baseAddress!,
                        UInt64(c.count), nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard status == 0 else { throw SodiumError.authenticationFailed }
        return plain
    }

    private static func checkKey(_ key: SecretBytes) throws {
        guard key.count == keyLength else {
            throw SodiumError.invalidLength(what: "secret-box key", expected: keyLength, actual: key.count)
        }
    }
}
