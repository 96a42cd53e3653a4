// X25519 sealed boxes (crypto_box_seal): anyone holding the public key can seal,
// only the secret key opens. The public key is always derived from the secret
// key (crypto_scalarmult_base) rather than trusted from storage.
import CSodium

/// An X25519 key pair for sealed boxes.
public struct SealedBoxKeyPair: Sendable {
    public static let publicKeyLength = Int(crypto_box_publickeybytes())
    public static let secretKeyLength = Int(crypto_box_secretkeybytes())
    /// Bytes a sealed box adds to its plaintext.
    public static let overhead = Int(crypto_box_sealbytes())

    public let publicKey: [UInt8]
    public let secretKey: SecretBytes

    /// A fresh random key pair.
    public static func generate() throws -> SealedBoxKeyPair {
        try Sodium.ensureInitialized()
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        var status: Int32 = -1
        let secret = try SecretBytes(count: secretKeyLength) { sk in
            status = publicKey.withUnsafeMutableBytes { pk in
                crypto_box_keypair(pk.bindMemory(to: UInt8.self).baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard status == 0 else { throw SodiumError.initializationFailed }
        return SealedBoxKeyPair(publicKey: publicKey, secretKey: secret)
    }

    /// Rebuilds the pair from its secret key alone, deriving the public key.
    public init(secretKey: SecretBytes) throws {
        try Sodium.ensureInitialized()
        guard secretKey.count == Self.secretKeyLength else {
            throw SodiumError.invalidLength(what: "X25519 secret key", expected: Self.secretKeyLength, actual: secretKey.count)
        }
        var publicKey = [UInt8](repeating: 0, count: Self.publicKeyLength)
        let status = secretKey.withUnsafeBytes { sk in
            publicKey.withUnsafeMutableBytes { pk in
                crypto_scalarmult_base(pk.bindMemory(to: UInt8.self).baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard status == 0 else { throw SodiumError.authenticationFailed }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The pair with a public key taken on trust, not derived (one X25519 scalar
    /// multiplication saved). Opening with a wrong public key fails; never seal to it
    /// before checking it against `init(secretKey:)`.
    public init(secretKey: SecretBytes, unverifiedPublicKey: [UInt8]) throws {
        guard secretKey.count == Self.secretKeyLength, unverifiedPublicKey.count == Self.publicKeyLength else {
            throw SodiumError.invalidLength(what: "X25519 key pair", expected: Self.publicKeyLength, actual: unverifiedPublicKey.count)
        }
        self.init(publicKey: unverifiedPublicKey, secretKey: secretKey)
    }

    private init(publicKey: [UInt8], secretKey: SecretBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Seals `plaintext` to `publicKey`.
    public static func seal(_ plaintext: SecretBytes, to publicKey: [UInt8]) throws -> [UInt8] {
        try Sodium.ensureInitialized()
        guard publicKey.count == publicKeyLength else {
            throw SodiumError.invalidLength(what: "X25519 public key", expected: publicKeyLength, actual: publicKey.count)
        }
        var sealed = [UInt8](repeating: 0, count: plaintext.count + overhead)
        let status = plaintext.withUnsafeBytes { m in
            sealed.withUnsafeMutableBytes { c in
                publicKey.withUnsafeBytes { pk in
                    crypto_box_seal(
                        c.bindMemory(to: UInt8.self).baseAddress!, m.bindMemory(to: UInt8.self).baseAddress,
                        UInt64(m.count), pk.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard status == 0 else { throw SodiumError.authenticationFailed }
        return sealed
    }

    /// Seals `plaintext` to this pair's public key.
    public func seal(_ plaintext: SecretBytes) throws -> [UInt8] {
        try Self.seal(plaintext, to: publicKey)
    }

    /// Opens a sealed box; throws `authenticationFailed` for a wrong key or altered bytes.
    public func open(_ sealed: [UInt8]) throws -> SecretBytes {
        guard sealed.count >= Self.overhead else { throw SodiumError.authenticationFailed }
        var status: Int32 = -1
        let plain = try SecretBytes(count: sealed.count - Self.overhead) { m in
            status = sealed.withUnsafeBytes { c in
                publicKey.withUnsafeBytes { pk in
                    secretKey.withUnsafeBytes { sk in
                        crypto_box_seal_open(
                            m.bindMemory(to: UInt8.self).baseAddress!,
                            c.bindMemory(to: UInt8.self).baseAddress!, UInt64(c.count),
                            pk.bindMemory(to: UInt8.self).baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!)
                    }
                }
            }
        }
        guard status == 0 else { throw SodiumError.authenticationFailed }
        return plain
    }
}
