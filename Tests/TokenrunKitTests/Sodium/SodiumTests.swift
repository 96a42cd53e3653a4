import Testing
@testable import TokenrunSodium
@testable import TokenrunSupport

@Suite("libsodium layer")
struct SodiumTests {
    @Test("unkeyed BLAKE2b-256 matches the RFC 7693 known answer for the empty string")
    func blake2bKnownAnswer() {
        let digest = KeyedHash.unkeyed([], length: 32)
        let hex = digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    }

    @Test("random bytes differ between calls and have the asked length")
    func randomBytes() throws {
        let a = try Sodium.randomBytes(32)
        let b = try Sodium.randomBytes(32)
        #expect(a.count == 32)
        #expect(a != b)
    }

    @Test("a sealed box opens with its key pair and not with another")
    func sealedBoxRoundTrip() throws {
        let pair = try SealedBoxKeyPair.generate()
        let other = try SealedBoxKeyPair.generate()
        let message = try SecretBytes(utf8: "refresh-token-value")
        let sealed = try pair.seal(message)
        #expect(sealed.count == message.count + SealedBoxKeyPair.overhead)
        #expect(try pair.open(sealed).utf8String() == "refresh-token-value")
        #expect(throws: SodiumError.authenticationFailed) { try other.open(sealed) }
    }

    @Test("a sealed box with one flipped bit fails to open")
    func sealedBoxTamper() throws {
        let pair = try SealedBoxKeyPair.generate()
        var sealed = try pair.seal(try SecretBytes(utf8: "secret"))
        sealed[sealed.count - 1] ^= 1
        #expect(throws: SodiumError.authenticationFailed) { try pair.open(sealed) }
        #expect(throws: SodiumError.authenticationFailed) { try pair.open([1, 2, 3]) }
    }

    @Test("the public key derived from the secret key equals the generated one")
    func publicKeyDerivation() throws {
        let pair = try SealedBoxKeyPair.generate()
        let rebuilt = try SealedBoxKeyPair(secretKey: pair.secretKey)
        #expect(rebuilt.publicKey == pair.publicKey)
        #expect(throws: SodiumError.self) { try SealedBoxKeyPair(secretKey: try SecretBytes.random(count: 16)) }
    }

    @Test("secret box round trip, wrong key and altered ciphertext")
    func secretBox() throws {
        let key = try SecretBytes.random(count: SecretBox.keyLength)
        let sealed = try SecretBox.seal(try SecretBytes(utf8: "inner key"), key: key)
        #expect(try SecretBox.open(sealed, key: key).utf8String() == "inner key")
        #expect(throws: SodiumError.authenticationFailed) {
            try SecretBox.open(sealed, key: try SecretBytes.random(count: SecretBox.keyLength))
        }
        var altered = sealed
        altered[SecretBox.nonceLength] ^= 0x80
        #expect(throws: SodiumError.authenticationFailed) { try SecretBox.open(altered, key: key) }
        #expect(throws: SodiumError.self) { try SecretBox.seal(try SecretBytes(utf8: "x"), key: try SecretBytes.random(count: 8)) }
    }

    @Test("Argon2id is deterministic for a salt and differs by passphrase and salt")
    func argon2id() throws {
        let salt = [UInt8](repeating: 7, count: PasswordHash.saltLength)
        let cost = PasswordHash.Cost.interactive
        func derive(_ text: String, _ salt: [UInt8]) throws -> SecretBytes {
            try PasswordHash.deriveKey(
                passphrase: try SecretBytes(utf8: text), salt: salt, opsLimit: cost.opsLimit, memLimit: cost.memLimit)
        }
        let a = try derive("correct horse", salt)
        #expect(a.count == 32)
        #expect(a.isEqual(to: try derive("correct horse", salt)))
        #expect(!a.isEqual(to: try derive("correct horsf", salt)))
        #expect(!a.isEqual(to: try derive("correct horse", [UInt8](repeating: 8, count: PasswordHash.saltLength))))
        #expect(throws: SodiumError.self) { try derive("x", [1, 2]) }
    }

    @Test("absurd Argon2id limits from a file are refused")
    func argon2idLimits() {
        #expect(PasswordHash.limitsAreSane(opsLimit: 2, memLimit: 64 << 20))
        #expect(!PasswordHash.limitsAreSane(opsLimit: 0, memLimit: 64 << 20))
        #expect(!PasswordHash.limitsAreSane(opsLimit: 2, memLimit: 1 << 40))
    }

    @Test("secret bytes never print their contents")
    func secretDescription() throws {
        let secret = try SecretBytes(utf8: "hunter2")
        #expect(!"\(secret)".contains("hunter2"))
        #expect(!String(reflecting: SecretString("hunter2")).contains("hunter2"))
        #expect(!"\(SecretString("hunter2"))".contains("hunter2"))
    }

    @Test("zeroing clears a buffer and consuming init zeroes its source")
    func zeroing() throws {
        var bytes: [UInt8] = [1, 2, 3]
        let secret = try SecretBytes(consuming: &bytes)
        #expect(bytes == [0, 0, 0])
        #expect(secret.withUnsafeBytes { Array($0) } == [1, 2, 3])
    }

    @Test("keyed hash depends on the key and subkeys on the purpose")
    func keyedHash() throws {
        let key = try SecretBytes.random(count: 32)
        let other = try SecretBytes.random(count: 32)
        #expect(try KeyedHash.hash([1, 2, 3], key: key) != KeyedHash.hash([1, 2, 3], key: other))
        let a = try KeyedHash.deriveSubkey(from: key, purpose: "a")
        let b = try KeyedHash.deriveSubkey(from: key, purpose: "b")
        #expect(!a.isEqual(to: b))
        #expect(Sodium.constantTimeEqual([1, 2], [1, 2]))
        #expect(!Sodium.constantTimeEqual([1, 2], [1, 3]))
        #expect(!Sodium.constantTimeEqual([1, 2], [1]))
    }
}
