// Properties of reading and writing the vault, for any file bytes, with a
// fixed key file:
// - unlocking gives a vault or a configuration error (exit 78) fit for a
//   terminal, and a vault that fails to open is never written;
// - a vault that unlocks and whose records all open takes a new record and
//   keeps every other one; one with a record that does not open is never
//   rewritten (a damaged record is neither dropped nor carried forward);
// - a process that unlocked the vault before the file changed under it
//   (the "stale writer") writes only over a file its key verifies.
// Each input is also tried with its authentication line recomputed, so the
// checks behind the MAC (header, public key, records) are reached too.
import FoundationEssentials
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

/// Vault bytes in memory, counting writes. Used by one thread at a time.
final class MemoryVaultStorage: VaultStorage, @unchecked Sendable {
    var bytes: [UInt8]?
    private(set) var writes = 0
    let location = "/fuzz/data/tokenrun/vault"
    /// The properties never refresh, so no lease is ever taken.
    var leases: any RefreshLeases { FileRefreshLeases(directory: "/nonexistent/fuzz/vault.leases") }

    init(_ bytes: [UInt8]?) { self.bytes = bytes }

    func load() throws -> [UInt8]? { bytes }

    func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws {
        guard let next = try body(bytes) else { return }
        bytes = next
        writes += 1
    }
}

public enum VaultProperties {
    /// The key file every fuzzed vault is opened with (the seed vaults were made with it).
    static let key = Array("tokenrun-fuzz-fixed-vault-key-32".utf8)
    /// `SealedVault.macPurpose`: the subkey that authenticates the file.
    static let macPurpose = "tokenrun vault mac v1"

    /// A private directory holding the key file, made once per process and removed at its exit.
    static let home: String = {
        var template = Array("/tmp/tokenrun-fuzz-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "cannot make a temporary directory")
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        do {
            try FileSystem.createExclusive(path + "/vault.key", bytes: key)
        } catch {
            preconditionFailure("cannot write the fuzz key file: \(error)")
        }
        atexit {
            unlink(VaultProperties.home + "/vault.key")
            rmdir(VaultProperties.home)
        }
        return path
    }()

    static var keys: KeyEnvironment {
        KeyEnvironment(variables: ["HOME": home, "XDG_CONFIG_HOME": home + "/config", "TOKENRUN_KEY_FILE": home + "/vault.key"])
    }

    /// The seed the stale writer unlocked: a vault with two records, made by `tokenrun-fuzz seeds`.
    static let baseVaultPath = FuzzCorpus.seedDirectory(.vault) + "/two-records"
    static let baseVault = FuzzCorpus.read(baseVaultPath)

    static let probe = Credential(
        profile: "fuzz-probe", refreshToken: SecretString("rt-fuzz-probe"), accessToken: SecretString("at-fuzz-probe"),
        scopes: ["a"], expiresAt: 1_700_003_600, updatedAt: 1_700_000_000)

    static let dictionary = [
        "TOKENRUN-VAULT 1\n", "TOKENRUN-VAULT 2\n", "TOKENRUN-VAULT 0\n", "TOKENRUN-VAULT -1\n", "\nmac ", "mac ", "\n", "{", "}",
        "[", "]", ",", ":", "\"", "null", "true", "0", "-1", "1e400", "18446744073709551616", "\"key_source\":", "\"key_file\"",
        "\"passphrase\"", "\"key_id\":", "\"wrapped_secret_key\":", "\"public_key\":", "\"created_at\":", "\"kdf\":",
        "\"algorithm\":\"argon2id13\"", "\"salt\":", "\"ops_limit\":", "\"mem_limit\":",
        "\"fuzz-probe\"", "\"demo\"", "==", "=", "AAAA", "////", "\\u0000", "\\u001b", "\\\"",
    ]

    static func check(_ bytes: [UInt8], _ expect: inout Expectations) {
        checkFile(bytes, &expect, context: "the vault as given")
        if let resealed = remac(bytes), resealed != bytes {
            checkFile(resealed, &expect, context: "the vault with its MAC recomputed")
        }
        checkStaleWriter(bytes, &expect)
    }

    /// Unlocks, reads and writes `bytes` as a fresh process would.
    static func checkFile(_ bytes: [UInt8], _ expect: inout Expectations, context: String) {
        let storage = MemoryVaultStorage(bytes)
        let summary = try? SealedVault(storage: storage).summary()
        let unlocked: UnlockedVault
        do {
            unlocked = try SealedVault(storage: storage).unlock(keys)
        } catch {
            expectConfigurationError(error, &expect, context: "\(context): unlocking")
            expect.expect(storage.writes == 0, "\(context): unlocking wrote to the vault")
            return
        }
        expect.expect(summary != nil, "\(context): the vault unlocks, but `vault status` cannot read its header")
        var before: [Credential]?
        do {
            before = try unlocked.credentials()
        } catch {
            expectConfigurationError(error, &expect, context: "\(context): reading the records")
        }
        if let before, let summary {
            expect.expect(summary.credentialCount == before.count, "\(context): `vault status` counts differently from the records")
        }
        do {
            try unlocked.store(probe)
        } catch {
            expectConfigurationError(error, &expect, context: "\(context): writing")
            expect.expect(before == nil, "\(context): a vault whose records all open could not be written: \(error)")
            expect.expect(storage.bytes == bytes, "\(context): a failed write changed the vault")
            return
        }
        guard let before else {
            expect.expect(false, "\(context): a vault with a record that does not open was rewritten")
            return
        }
        do {
            let after = try SealedVault(storage: storage).unlock(keys).credentials()
            let kept = before.filter { $0.profile != probe.profile }
            expect.expect(after.count == kept.count + 1, "\(context): a write changed the number of other records")
            expect.expect(after.contains(probe), "\(context): the record written is not read back")
            for record in kept {
                expect.expect(after.contains(record), "\(context): a write lost or changed the record of \(record.profile)")
            }
        } catch {
            expect.expect(false, "\(context): the vault written does not open again: \(error)")
        }
    }

    /// A writer that unlocked the base vault before the file became `bytes`.
    static func checkStaleWriter(_ bytes: [UInt8], _ expect: inout Expectations) {
        let storage = MemoryVaultStorage(baseVault)
        guard let unlocked = try? SealedVault(storage: storage).unlock(keys) else {
            expect.expect(false, "the base vault \(baseVaultPath) does not unlock with the fuzz key (tokenrun-fuzz seeds makes it)")
            return
        }
        storage.bytes = bytes
        do {
            try unlocked.store(probe)
        } catch {
            expectConfigurationError(error, &expect, context: "a stale writer")
            expect.expect(storage.bytes == bytes, "a stale writer changed a vault it could not verify")
            return
        }
        let opens = (try? SealedVault(storage: MemoryVaultStorage(bytes)).unlock(keys).credentials()) != nil
        expect.expect(opens, "a stale writer replaced a vault that does not open")
    }

    static func expectConfigurationError(_ error: Error, _ expect: inout Expectations, context: String) {
        guard let error = error as? TokenrunError else {
            expect.expect(false, "\(context): an error that is not a TokenrunError: \(error)")
            return
        }
        expect.expect(error.exitStatus == .configuration, "\(context): a vault error that does not exit 78: \(error)")
        expect.expectPrintable(error, context)
    }

    /// `bytes` with the authentication line recomputed under the fixed key, when its header allows.
    public static func remac(_ bytes: [UInt8]) -> [UInt8]? {
        var keyBytes = key
        guard let file = try? VaultFile.parse(bytes), let wrapped = Data(base64Encoded: file.header.wrappedSecretKey),
            let wrapping = try? SecretBytes(consuming: &keyBytes),
            let secret = try? SecretBox.open(Array(wrapped), key: wrapping),
            let macKey = try? KeyedHash.deriveSubkey(from: secret, purpose: macPurpose),
            let mac = try? KeyedHash.hash(file.authenticatedBytes, key: macKey)
        else { return nil }
        return file.authenticatedBytes + Array("mac \(Data(mac).base64EncodedString())\n".utf8)
    }

    /// A new vault for the fixed key holding `credentials` (for the seed corpus).
    public static func makeVault(_ credentials: [Credential], passphrase: String? = nil) throws -> [UInt8] {
        let storage = MemoryVaultStorage(nil)
        let vault = SealedVault(storage: storage)
        let unlocked: UnlockedVault
        if let passphrase {
            unlocked = try vault.create(.passphrase(try SecretBytes(utf8: passphrase), cost: .interactive), now: 1_700_000_000)
        } else {
            unlocked = try vault.create(.keyFile(path: home + "/vault.key"), now: 1_700_000_000)
        }
        for credential in credentials { try unlocked.store(credential) }
        return storage.bytes ?? []
    }
}
