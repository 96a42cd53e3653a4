import FoundationEssentials
import Testing
@testable import TokenrunSodium
@testable import TokenrunSupport
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

/// Whether this process may use the kernel keyring; the tests that need it are skipped, saying so, when not.
let kernelKeyringAvailable = (try? KeyringCache.sessionKind()) != nil
let noKernelKeyring: Comment = "the kernel keyring is unavailable here (add_key/keyctl blocked or missing)"

@Suite("kernel keyring cache: names, lifetimes, /proc/keys")
struct KeyringCacheTests {
    @Test("the description is the prefix and 32 hex digits of a hash of the public key and the vault path, one per vault, nothing else")
    func description() throws {
        let first = try SealedBoxKeyPair.generate()
        let second = try SealedBoxKeyPair.generate()
        let name = try KeyringCache.description(forVaultPublicKey: first.publicKey, path: "/v/a")
        #expect(name.hasPrefix("tokenrun:vault:"))
        let digits = name.dropFirst("tokenrun:vault:".count)
        #expect(digits.count == 32 && Hex.decode(String(digits)) != nil)
        #expect(try KeyringCache.description(forVaultPublicKey: first.publicKey, path: "/v/a") == name)
        #expect(try KeyringCache.description(forVaultPublicKey: second.publicKey, path: "/v/a") != name)
        // Another vault's file copied to /v/b does not find /v/a's key.
        #expect(try KeyringCache.description(forVaultPublicKey: first.publicKey, path: "/v/b") != name)
        // Neither key appears in it, in hex or base64.
        let secret = first.secretKey.withUnsafeBytes { Array($0) }
        for bytes in [first.publicKey, secret] {
            #expect(!name.contains(Hex.encode(Array(bytes.prefix(8)))))
            #expect(!name.contains(Data(bytes).base64EncodedString().prefix(12)))
        }
    }

    @Test("a lifetime is more than 0 and at most 7 days; the permissions are possessor-only")
    func lifetimes() {
        #expect(!KeyringCache.isValidLifetime(0))
        #expect(!KeyringCache.isValidLifetime(-1))
        #expect(KeyringCache.isValidLifetime(1))
        #expect(KeyringCache.isValidLifetime(7 * 86_400))
        #expect(!KeyringCache.isValidLifetime(7 * 86_400 + 1))
        #expect(KeyringCache.possessorOnly == 0x3f00_0000)
        #expect(KeyringCache.possessorOnly & 0x00ff_ffff == 0)
    }

    @Test("the remaining lifetime is the timeout column of the key's /proc/keys line; none for perm or expd")
    func procKeys() {
        let text = """
            05efbd93 I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 2
            0a1b2c3d I--Q---     1   7h 3f000000     0     0 user      tokenrun:vault:00ff: 32
            0000002a I--Q---     1 perm 3f000000     0     0 user      tokenrun:vault:11ee: 32
            0000002b I--Q---     1 expd 3f000000     0     0 user      tokenrun:vault:22dd: 32
            """
        #expect(KeyringCache.remainingLifetime(of: 0x0a1b_2c3d, procKeys: text) == "7h")
        #expect(KeyringCache.remainingLifetime(of: 42, procKeys: text) == nil)
        #expect(KeyringCache.remainingLifetime(of: 43, procKeys: text) == nil)
        #expect(KeyringCache.remainingLifetime(of: 44, procKeys: text) == nil)
    }

    @Test("the keyring error names the call and says when the quota ran out")
    func errors() {
        let quota = TokenrunError.keyringUnavailable(KeyringError(operation: "add_key", errno: EDQUOT))
        #expect(quota.summary.contains("add_key failed"))
        #expect(quota.hints.first?.contains("maxkeys") == true)
        let blocked = TokenrunError.keyringUnavailable(KeyringError(operation: "keyctl get session keyring", errno: ENOSYS))
        #expect(blocked.exitStatus == .configuration)
        #expect(blocked.hints.first?.contains("TOKENRUN_PASSPHRASE_FILE") == true)
    }
}

@Suite("kernel keyring cache: the real session keyring", .enabled(if: kernelKeyringAvailable, noKernelKeyring))
struct KeyringCacheLiveTests {
    /// A description no other test or vault uses.
    func uniqueDescription() throws -> String {
        try KeyringCache.description(forVaultPublicKey: try Sodium.randomBytes(32), path: "/v/a")
    }

    /// The /proc/keys line of `serial`, split into its columns.
    func procKeysLine(_ serial: Int32) -> [Substring]? {
        let digits = String(UInt32(bitPattern: serial), radix: 16)
        let id = String(repeating: "0", count: 8 - digits.count) + digits
        let text = String(decoding: (try? FileSystem.readFile("/proc/keys")) ?? [], as: UTF8.self)
        return text.split(separator: "\n").map { $0.split(separator: " ") }.first { $0.first.map(String.init) == id }
    }

    @Test("a stored key reads back whole, possessor-only and with a timeout, and remove forgets it")
    func storeLookupRemove() throws {
        let description = try uniqueDescription()
        defer { KeyringCache.remove(description) }
        let key = try SecretBytes.random(count: 32)
        try KeyringCache.store(key, description: description, lifetime: 60)
        let found = try #require(KeyringCache.lookup(description))
        #expect(found.secretKey.isEqual(to: key))
        #expect(KeyringCache.find(description) == found.serial)
        if let line = procKeysLine(found.serial) {
            #expect(line[3] != "perm", "the key has no timeout: \(line)")
            #expect(line[4] == "3f000000", "\(line)")
        }
        #expect(KeyringCache.remainingLifetime(of: found.serial).map { $0.hasSuffix("s") || $0 == "1m" } == true)
        #expect(KeyringCache.remove(description))
        #expect(KeyringCache.lookup(description) == nil)
        #expect(!KeyringCache.remove(description))
    }

    @Test("storing again replaces the entry: one entry, the new key")
    func storeReplaces() throws {
        let description = try uniqueDescription()
        defer { KeyringCache.remove(description) }
        let old = try SecretBytes.random(count: 32)
        let new = try SecretBytes.random(count: 32)
        try KeyringCache.store(old, description: description, lifetime: 60)
        let first = try #require(KeyringCache.find(description))
        try KeyringCache.store(new, description: description, lifetime: 120)
        let found = try #require(KeyringCache.lookup(description))
        #expect(found.secretKey.isEqual(to: new))
        #expect(procKeysLine(first) == nil || found.serial == first)
        #expect(KeyringCache.remove(description))
        #expect(KeyringCache.find(description) == nil)
    }

    @Test("a key that expires is gone")
    func expires() throws {
        let description = try uniqueDescription()
        defer { KeyringCache.remove(description) }
        try KeyringCache.store(try SecretBytes.random(count: 32), description: description, lifetime: 1)
        #expect(KeyringCache.lookup(description) != nil)
        usleep(1_600_000)
        #expect(KeyringCache.lookup(description) == nil)
    }
}

@Suite("vault unlock and lock through the keyring", .enabled(if: kernelKeyringAvailable, noKernelKeyring))
struct SealedVaultKeyringTests {
    let dir = TemporaryDirectory()
    var env: [String: String] { dir.environment }
    var vault: SealedVault { SealedVault(storage: FileVaultStorage(path: Paths(environment: env).vault)) }
    var noKeys: KeyEnvironment { KeyEnvironment(variables: env) }

    func passphraseKeys(_ passphrase: String) -> KeyEnvironment {
        var variables = env
        variables["TOKENRUN_PASSPHRASE"] = passphrase
        return KeyEnvironment(variables: variables)
    }

    func makePassphraseVault() throws {
        let made = try vault.create(.passphrase(try SecretBytes(utf8: "correct horse"), cost: .interactive), now: 5)
        try made.store(
            Credential(
                profile: "acme", refreshToken: SecretString("rt-secret-1"), accessToken: nil, clientSecret: nil, tokenType: "Bearer",
                scopes: [], expiresAt: nil, issuedAt: nil, state: .connected, lastError: nil, updatedAt: 5))
    }

    func description() throws -> String {
        try #require(try vault.keyringName())
    }

    @Test("after unlockIntoKeyring the vault opens with no key source; after lockKeyring it does not")
    func unlockThenLock() throws {
        try makePassphraseVault()
        defer { _ = try? vault.lockKeyring() }
        #expect(throws: TokenrunError.self) { try vault.unlock(noKeys) }
        #expect(try vault.keyringStatus() == .locked)
        try vault.unlockIntoKeyring(passphraseKeys("correct horse"), lifetime: 60)
        let opened = try vault.unlock(noKeys)
        #expect(try opened.credential(for: "acme")?.refreshToken?.value == "rt-secret-1")
        if case .unlocked = try vault.keyringStatus() {} else { Issue.record("status does not say unlocked") }
        #expect(try vault.lockKeyring() == true)
        #expect(try vault.lockKeyring() == false)
        #expect(throws: TokenrunError.self) { try vault.unlock(noKeys) }
    }

    @Test("a cached key is taken before a key source that is given, by every unlock and by firstKey")
    func cachedKeyFirst() throws {
        try makePassphraseVault()
        defer { _ = try? vault.lockKeyring() }
        let wrong = passphraseKeys("wrong horse")
        #expect(throws: TokenrunError.self) { try vault.unlock(wrong) }
        try vault.unlockIntoKeyring(passphraseKeys("correct horse"), lifetime: 60)
        #expect(try vault.unlock(wrong).credentials().map(\.profile) == ["acme"])
        #expect(try vault.unlock(wrong, prefetching: ["acme"]).credentialAsUnlocked(for: "acme")?.refreshToken?.value == "rt-secret-1")
        let file = try vault.decode(try #require(try FileVaultStorage(path: Paths(environment: env).vault).load()))
        let key = try vault.firstKey(for: file.header, environment: wrong)
        guard case .cached = key else {
            Issue.record("firstKey took \(key.origin)")
            return
        }
        #expect(key.origin.contains("session keyring"))
    }

    @Test("a wrong passphrase caches nothing; a lifetime of 0 or over 7 days is a usage error")
    func wrongPassphrase() throws {
        try makePassphraseVault()
        defer { _ = try? vault.lockKeyring() }
        #expect {
            try vault.unlockIntoKeyring(passphraseKeys("wrong horse"), lifetime: 60)
        } throws: { error in
            if case .wrongPassphrase = error as? TokenrunError { true } else { false }
        }
        #expect(KeyringCache.find(try description()) == nil)
        for lifetime: Int64 in [0, 7 * 86_400 + 1] {
            #expect(throws: TokenrunError.usage("the vault can stay unlocked for 1s to 7d, not \(DurationParser.format(lifetime))")) {
                try vault.unlockIntoKeyring(passphraseKeys("correct horse"), lifetime: lifetime)
            }
        }
        #expect(KeyringCache.find(try description()) == nil)
    }

    @Test("a cached key that does not reproduce the vault's public key is ignored and invalidated")
    func foreignKeyIgnored() throws {
        try makePassphraseVault()
        let description = try description()
        defer { KeyringCache.remove(description) }
        try KeyringCache.store(try SecretBytes.random(count: 32), description: description, lifetime: 60)
        #expect(throws: TokenrunError.self) { try vault.unlock(noKeys) }
        #expect(KeyringCache.find(description) == nil)
        // With the passphrase it opens as usual.
        #expect(try vault.unlock(passphraseKeys("correct horse")).credentials().count == 1)
    }

    @Test("with a cached key an altered vault is still refused, and left untouched")
    func tamperedVaultRefused() throws {
        try makePassphraseVault()
        defer { _ = try? vault.lockKeyring() }
        try vault.unlockIntoKeyring(passphraseKeys("correct horse"), lifetime: 60)
        let path = Paths(environment: env).vault
        var bytes = try #require(try FileSystem.readFile(path))
        // One bit near the end (in the file's MAC), so the file still parses or nearly.
        bytes[bytes.count - 5] ^= 0x01
        try dir.write("data/tokenrun/vault", bytes: bytes)
        #expect {
            try vault.unlock(noKeys)
        } throws: { error in
            switch error as? TokenrunError {
            case .vaultTampered?, .vaultCorrupt?: true
            default: false
            }
        }
        #expect(try FileSystem.readFile(path) == bytes)
    }
}
