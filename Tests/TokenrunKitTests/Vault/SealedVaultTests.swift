import FoundationEssentials
import Testing
@testable import TokenrunSodium
@testable import TokenrunSupport
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

@Suite("sealed vault")
struct SealedVaultTests {
    let dir = TemporaryDirectory()
    var env: [String: String] { dir.environment }
    var vaultPath: String { Paths(environment: env).vault }
    var vault: SealedVault { SealedVault(storage: FileVaultStorage(path: vaultPath)) }
    var keys: KeyEnvironment { KeyEnvironment(variables: env) }

    func credential(_ profile: String, refresh: String = "rt-secret-1") -> Credential {
        Credential(
            profile: profile, refreshToken: SecretString(refresh), accessToken: SecretString("at-secret"),
            clientSecret: SecretString("cs-secret"), tokenType: "Bearer", scopes: ["mail.read"], expiresAt: 2_000_000_000,
            issuedAt: 1_999_996_400, state: .connected, lastError: nil, updatedAt: 1_999_996_400)
    }

    @discardableResult
    func makeKeyFileVault(with profiles: [String] = ["acme"]) throws -> UnlockedVault {
        let unlocked = try vault.create(.keyFile(path: keys.keyFileForNewVault), now: 1000)
        for name in profiles { try unlocked.store(credential(name)) }
        return unlocked
    }

    func vaultBytes() -> [UInt8] { dir.read("data/tokenrun/vault") ?? [] }

    func writeVault(_ bytes: [UInt8]) throws {
        try dir.write("data/tokenrun/vault", bytes: bytes)
    }

    /// Runs `body`, expects the given error, and checks that the vault file was not touched.
    func expectUntouched(_ expected: (TokenrunError) -> Bool, _ body: () throws -> Void) {
        let before = vaultBytes()
        do {
            try body()
            Issue.record("expected an error")
        } catch let error as TokenrunError {
            #expect(expected(error), "unexpected error: \(error.summary)")
            #expect(error.exitStatus == .configuration)
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
        let unchanged = vaultBytes() == before
        #expect(unchanged, "the vault file changed")
    }

    @Test("a stored credential reads back whole, and the file holds no secret in the clear")
    func roundTrip() throws {
        try makeKeyFileVault()
        let reopened = try vault.unlock(keys)
        #expect(try reopened.credential(for: "acme") == credential("acme"))
        #expect(try reopened.credential(for: "other") == nil)
        let text = String(decoding: vaultBytes(), as: UTF8.self)
        for secret in ["rt-secret-1", "at-secret", "cs-secret", "mail.read"] { #expect(!text.contains(secret)) }
        #expect(text.hasPrefix("TOKENRUN-VAULT 2\n"))
    }

    @Test("storing again replaces the record, removing deletes it")
    func replaceAndRemove() throws {
        let unlocked = try makeKeyFileVault(with: ["a", "b"])
        try unlocked.store(credential("a", refresh: "rt-2"))
        #expect(try unlocked.credential(for: "a")?.refreshToken?.value == "rt-2")
        #expect(try unlocked.credentials().map(\.profile) == ["a", "b"])
        #expect(try unlocked.remove(profile: "a"))
        #expect(try !unlocked.remove(profile: "a"))
        #expect(try unlocked.credentials().map(\.profile) == ["b"])
    }

    @Test("vault and key file are created 0600 in 0700 directories")
    func permissionsOnCreate() throws {
        try makeKeyFileVault()
        for path in [vaultPath, keys.keyFileForNewVault] {
            #expect(try FileSystem.status(path)?.mode == 0o600)
            #expect(try FileSystem.status(path.directoryName)?.mode == 0o700)
        }
        #expect(try FileSystem.status(keys.keyFileForNewVault)?.size == 32)
    }

    @Test("a second init is refused and the existing vault kept")
    func initTwice() throws {
        try makeKeyFileVault()
        expectUntouched({ if case .vaultExists = $0 { true } else { false } }) {
            try vault.create(.keyFile(path: keys.keyFileForNewVault), now: 1)
        }
    }

    @Test("a passphrase vault opens with the passphrase and reports a wrong one")
    func passphraseVault() throws {
        let unlocked = try vault.create(.passphrase(try SecretBytes(utf8: "correct horse"), cost: .interactive), now: 5)
        try unlocked.store(credential("acme"))
        var variables = env
        variables["TOKENRUN_PASSPHRASE"] = "correct horse"
        let reopened = try vault.unlock(KeyEnvironment(variables: variables))
        #expect(try reopened.credential(for: "acme")?.refreshToken?.value == "rt-secret-1")
        #expect(try vault.summary()?.keySource == .passphrase)

        variables["TOKENRUN_PASSPHRASE"] = "wrong horse"
        expectUntouched({ if case .wrongPassphrase = $0 { true } else { false } }) {
            _ = try vault.unlock(KeyEnvironment(variables: variables))
        }
    }

    @Test("a passphrase from a file loses its trailing newline; from the terminal prompt when nothing else is set")
    func passphraseSources() throws {
        let unlocked = try vault.create(.passphrase(try SecretBytes(utf8: "pw"), cost: .interactive), now: 5)
        try unlocked.store(credential("acme"))
        try dir.write("pass", "pw\n")
        var variables = env
        variables["TOKENRUN_PASSPHRASE_FILE"] = dir.file("pass")
        #expect(try vault.unlock(KeyEnvironment(variables: variables)).credentials().count == 1)

        let prompted = KeyEnvironment(variables: env, prompt: { _ in try SecretBytes(utf8: "pw") })
        #expect(try vault.unlock(prompted).credentials().count == 1)

        #expect(throws: TokenrunError.self) { try vault.unlock(KeyEnvironment(variables: env)) }
    }

    @Test("a wrong key file is reported as such and nothing is written")
    func wrongKeyFile() throws {
        try makeKeyFileVault()
        var other = try Sodium.randomBytes(32)
        try dir.write("other.key", bytes: other)
        Sodium.zero(&other)
        var variables = env
        variables["TOKENRUN_KEY_FILE"] = dir.file("other.key")
        expectUntouched({ if case .wrongKey(let source, _) = $0 { source.contains("TOKENRUN_KEY_FILE") } else { false } }) {
            _ = try vault.unlock(KeyEnvironment(variables: variables))
        }
        expectUntouched({ if case .wrongKey = $0 { true } else { false } }) {
            _ = try vault.unlockOrCreate(KeyEnvironment(variables: variables), now: 1)
        }
    }

    @Test("a key file of the wrong length is refused by name")
    func keyFileLength() throws {
        try makeKeyFileVault()
        try dir.write("short.key", bytes: [1, 2, 3])
        var variables = env
        variables["TOKENRUN_KEY_FILE"] = dir.file("short.key")
        expectUntouched({ if case .keyFileInvalid(_, let reason) = $0 { reason.contains("3 bytes") } else { false } }) {
            _ = try vault.unlock(KeyEnvironment(variables: variables))
        }
    }

    @Test("a truncated vault is reported as truncated, and a write does not replace it")
    func truncated() throws {
        let unlocked = try makeKeyFileVault()
        let bytes = vaultBytes()
        for cut in [bytes.count - 1, bytes.count - 20, bytes.count / 2, 10] {
            try writeVault(Array(bytes[..<cut]))
            expectUntouched({
                switch $0 {
                case .vaultTruncated, .vaultCorrupt: true
                default: false
                }
            }) { _ = try vault.unlock(keys) }
            expectUntouched({ _ in true }) { try unlocked.store(credential("new")) }
        }
        try writeVault(Array(bytes[..<(bytes.count / 2)]))
        expectUntouched({ if case .vaultTruncated = $0 { true } else { false } }) { _ = try vault.unlock(keys) }
    }

    @Test("every single flipped bit in the body or MAC is detected and nothing is written")
    func tampered() throws {
        let unlocked = try makeKeyFileVault(with: ["a", "b"])
        let original = vaultBytes()
        let bodyStart = original.firstIndex(of: UInt8(ascii: "\n"))! + 1
        // Flip one bit at many positions across the body and MAC line.
        for position in stride(from: bodyStart, to: original.count - 1, by: 7) {
            var bytes = original
            bytes[position] ^= 0x04
            try writeVault(bytes)
            expectUntouched({ _ in true }) {
                let reopened = try vault.unlock(keys)
                _ = try reopened.credentials()
            }
            expectUntouched({ _ in true }) { try unlocked.store(credential("c")) }
        }
    }

    @Test("every flip of every bit of a small vault is refused, by a full read and by a launch's lookup")
    func everyBitOfEveryByte() throws {
        try makeKeyFileVault(with: ["a"])
        let original = vaultBytes()
        #expect(try SealedVault(storage: InMemoryVaultStorage(original)).unlock(keys).credentials().count == 1)
        var accepted: [String] = []
        for position in original.indices {
            for bit in 0..<8 {
                var bytes = original
                bytes[position] ^= UInt8(1 << bit)
                let altered = SealedVault(storage: InMemoryVaultStorage(bytes))
                if (try? altered.unlock(keys).credentials()) != nil { accepted.append("byte \(position) bit \(bit), full read") }
                if (try? altered.unlock(keys, prefetching: ["a"]).credentialAsUnlocked(for: "a")) != nil {
                    accepted.append("byte \(position) bit \(bit), launch")
                }
            }
        }
        #expect(accepted.isEmpty, "altered vaults that still opened: \(accepted.prefix(10))")
    }

    @Test("a credential holding integers above 2^53 reads back exactly")
    func largeIntegers() throws {
        var big = credential("acme")
        big.expiresAt = 9_007_199_254_740_993
        big.issuedAt = Int64.max
        big.refreshedAt = -9_007_199_254_740_993
        let unlocked = try makeKeyFileVault(with: [])
        try unlocked.store(big)
        let reopened = try vault.unlock(keys)
        #expect(try reopened.credential(for: "acme") == big)
        let launch = try vault.unlock(keys, prefetching: ["acme"])
        #expect(try launch.credentialAsUnlocked(for: "acme")?.expiresAt == 9_007_199_254_740_993)
        // Still writable: the record is read and rewritten with the exact values.
        try reopened.store(credential("other"))
        #expect(try vault.unlock(keys).credential(for: "acme") == big)
    }

    @Test("a record rewritten by someone without the key fails the MAC check")
    func forgedRecord() throws {
        let unlocked = try makeKeyFileVault()
        // An attacker who reads the public key can seal a record of their own...
        let forged = try SealedBoxKeyPair.seal(
            try UnlockedVault.encode(credential("acme", refresh: "attacker")), to: unlocked.keyPair.publicKey)
        // ...but cannot compute the MACs: keep the old record MAC and the old MAC line.
        var lines = String(decoding: vaultBytes(), as: UTF8.self).split(separator: "\n").map(String.init)
        let fields = lines[2].split(separator: " ")
        lines[2] = "\(fields[0]) \(Data(forged).base64EncodedString()) \(fields[2])"
        try writeVault(Array((lines.joined(separator: "\n") + "\n").utf8))
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("authentication code") } else { false } }) {
            _ = try vault.unlock(keys)
        }
        // A launch that reads only its own record checks that record's MAC, and on a
        // mismatch reads the whole file to name the damage as every other command does.
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("authentication code") } else { false } }) {
            _ = try vault.unlock(keys, prefetching: ["acme"])
        }
    }

    @Test("a launch finds its record among thousands by binary search, reading a few KiB, and checks it")
    func binarySearch() throws {
        let unlocked = try vault.create(.keyFile(path: keys.keyFileForNewVault), now: 1000)
        var file = try VaultFile.parse(vaultBytes())
        // 3,000 distinct names in scrambled order (7 generates the residues mod 3001; 2994 is left out).
        let names = (0..<3000).map { (n: Int) -> String in
            let digits = String(n * 7 % 3001)
            return "p" + String(repeating: "0", count: 5 - digits.count) + digits
        }
        file.header.records = try names.map { name in
            let sealed = try SealedBoxKeyPair.seal(try UnlockedVault.encode(credential(name)), to: unlocked.keyPair.publicKey)
            return SealedRecord(profile: name, sealed: Data(sealed).base64EncodedString())
        }
        let bytes = try VaultFile.serialize(file.header, macKey: unlocked.macKey)
        #expect(bytes.count > 1_000_000)

        struct CountingReader: VaultReader {
            let inner: VaultBytesReader
            let read: UnsafeMutablePointer<Int>
            var count: Int { inner.count }
            func bytes(_ range: Range<Int>) throws -> [UInt8] {
                let bytes = try inner.bytes(range)
                read.pointee += bytes.count
                return bytes
            }
        }
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { counter.deallocate() }
        counter.pointee = 0
        let reader = CountingReader(inner: VaultBytesReader(bytes), read: counter)
        let index = try VaultFile.index(reader)
        #expect(counter.pointee < 8192, "the header took \(counter.pointee) bytes")
        for name in ["p00000", "p01000", "p03000", names[17], names[2999]] {
            counter.pointee = 0
            let record = try #require(try VaultFile.findRecord(name, in: reader, index: index), "\(name) not found")
            #expect(record.profile == name)
            try unlocked.verifyRecord(record)
            #expect(counter.pointee < 128 << 10, "finding \(name) read \(counter.pointee) bytes of \(bytes.count)")
        }
        for absent in ["", "a", "p", "p00000a", "p02994", "p03001", "q", "p1"] {
            counter.pointee = 0
            #expect(try VaultFile.findRecord(absent, in: reader, index: index) == nil, "\(absent) found")
            #expect(counter.pointee < 128 << 10, "looking for \(absent) read \(counter.pointee) bytes of \(bytes.count)")
        }

        // Through the file: the launch's record opens, and its credential is the one stored.
        try writeVault(bytes)
        let reopened = try vault.unlock(keys, prefetching: ["p01000", "nobody"])
        #expect(reopened.header.records.map(\.profile) == ["p01000"])
        #expect(try reopened.credentialAsUnlocked(for: "p01000") == credential("p01000"))
        // Everything still verifies when read whole.
        #expect(try vault.unlock(keys).credentials().count == 3000)
    }

    @Test("an older genuine record spliced into a small vault is refused by a launch too; a large one relies on its records' MACs")
    func splicedOlderRecord() throws {
        let unlocked = try makeKeyFileVault(with: ["acme", "beta"])
        let old = String(decoding: vaultBytes(), as: UTF8.self).split(separator: "\n").map(String.init)
        try unlocked.store(credential("acme", refresh: "rt-secret-2"))
        var lines = String(decoding: vaultBytes(), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines[2] != old[2])
        lines[2] = old[2]  // acme's line from before the last write
        try writeVault(Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(vaultBytes().count <= SealedVault.wholeCheckLimit)
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("authentication code") } else { false } }) {
            _ = try vault.unlock(keys, prefetching: ["acme"])
        }
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("authentication code") } else { false } }) {
            _ = try vault.unlock(keys)
        }
    }

    @Test("records out of order, or a record line that is not three fields, are refused as damaged")
    func malformedRecordLines() throws {
        try makeKeyFileVault(with: ["acme", "beta"])
        let lines = String(decoding: vaultBytes(), as: UTF8.self).split(separator: "\n").map(String.init)
        let swapped = [lines[0], lines[1], lines[3], lines[2], lines[4]]
        try writeVault(Array((swapped.joined(separator: "\n") + "\n").utf8))
        expectUntouched({ if case .vaultCorrupt(_, let reason) = $0 { reason.contains("out of order") } else { false } }) {
            _ = try vault.unlock(keys)
        }
        let short = [lines[0], lines[1], String(lines[2].split(separator: " ")[0]), lines[3], lines[4]]
        try writeVault(Array((short.joined(separator: "\n") + "\n").utf8))
        expectUntouched({ if case .vaultCorrupt(_, let reason) = $0 { reason.contains("record line") } else { false } }) {
            _ = try vault.unlock(keys)
        }
    }

    @Test("a version-1 vault, its MAC valid under the key, is refused as older by every unlock and write, and left untouched")
    func refusesVersion1() throws {
        let unlocked = try makeKeyFileVault(with: ["acme", "beta"])
        let file = try VaultFile.parse(vaultBytes())
        let records = file.header.records.map { "{\"profile\":\"\($0.profile)\",\"sealed\":\"\($0.sealed)\"}" }
        let header = file.header
        let json =
            "{\"created_at\":\(header.createdAt),\"key_id\":\"\(header.keyID)\",\"key_source\":\"key_file\","
            + "\"public_key\":\"\(header.publicKey)\",\"records\":[\(records.joined(separator: ","))],"
            + "\"wrapped_secret_key\":\"\(header.wrappedSecretKey)\"}"
        var bytes = Array("TOKENRUN-VAULT 1\n\(json)\n".utf8)
        bytes += Array("mac \(Data(try KeyedHash.hash(bytes, key: unlocked.macKey)).base64EncodedString())\n".utf8)
        try writeVault(bytes)
        let path = TokenrunError.shellQuoted(vaultPath)
        let older: (TokenrunError) -> Bool = { error in
            guard case .vaultVersionUnsupported(_, 1, 2) = error else { return false }
            return error.summary.contains("format version 1, older than this tokenrun reads (2)")
                && error.hints == ["move it aside, make a new vault and log in again: mv \(path) \(path).v1 && tokenrun vault init"]
        }
        expectUntouched(older) { _ = try vault.unlock(keys) }
        expectUntouched(older) { _ = try vault.unlock(keys, prefetching: ["acme"]) }
        expectUntouched(older) { _ = try vault.unlockOrCreate(keys, now: 1) }
        expectUntouched(older) { _ = try vault.summary() }
        expectUntouched(older) { try unlocked.store(credential("gamma")) }
    }

    @Test("a record moved under another profile name fails to open")
    func recordMoved() throws {
        let unlocked = try makeKeyFileVault()
        var file = try VaultFile.parse(vaultBytes())
        file.header.records[0].profile = "evil"
        // Re-authenticate with the real key, so only the record's own binding can catch it.
        try writeVault(try VaultFile.serialize(file.header, macKey: unlocked.macKey))
        let reopened = try vault.unlock(keys)
        expectUntouched({ if case .recordMoved(_, "evil", "acme") = $0 { true } else { false } }) {
            _ = try reopened.credential(for: "evil")
        }
        // Its MAC is valid (it was made with the key), so a write carries it forward
        // without opening every record — and reading it is still refused.
        try reopened.store(credential("x"))
        #expect(throws: TokenrunError.self) { _ = try reopened.credential(for: "evil") }
        #expect(try reopened.credential(for: "x") == credential("x"))
    }

    @Test("a write refuses a vault whose record fails its own MAC, and leaves the file as it was")
    func writeChecksRecordMACs() throws {
        try makeKeyFileVault(with: ["acme", "beta"])
        let reopened = try vault.unlock(keys, prefetching: ["acme"])
        var lines = String(decoding: vaultBytes(), as: UTF8.self).split(separator: "\n").map(String.init)
        var fields = lines[3].split(separator: " ").map(String.init)
        fields[2] = String(fields[2].reversed())
        lines[3] = fields.joined(separator: " ")
        try writeVault(Array((lines.joined(separator: "\n") + "\n").utf8))
        expectUntouched({ if case .vaultTampered = $0 { true } else { false } }) { try reopened.store(credential("gamma")) }
    }

    @Test("a public key swapped into the header is refused, so nothing is ever sealed to it")
    func publicKeySwap() throws {
        let unlocked = try makeKeyFileVault()
        let attacker = try SealedBoxKeyPair.generate()
        var file = try VaultFile.parse(vaultBytes())
        file.header.publicKey = Data(attacker.publicKey).base64EncodedString()
        try writeVault(try VaultFile.serialize(file.header, macKey: unlocked.macKey))
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("public key") } else { false } }) {
            _ = try vault.unlock(keys)
        }
        // A launch takes the header's public key on trust to open its record (no scalar
        // multiplication): the record then fails to open, and nothing is sealed to that key.
        let launch = try vault.unlock(keys, prefetching: ["acme"])
        expectUntouched({ if case .vaultTampered = $0 { true } else { false } }) {
            _ = try launch.credentialAsUnlocked(for: "acme")
        }
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("public key") } else { false } }) {
            try launch.store(credential("x"))
        }
        expectUntouched({ if case .vaultTampered(_, let reason) = $0 { reason.contains("public key") } else { false } }) {
            let made = credential("y")
            try launch.storeAll(["y": { _ in made }])
        }
    }

    @Test("records are sealed to the key derived from the secret key")
    func sealsToDerivedKey() throws {
        let unlocked = try makeKeyFileVault()
        let derived = try SealedBoxKeyPair(secretKey: unlocked.keyPair.secretKey)
        let file = try VaultFile.parse(vaultBytes())
        let sealed = Array(Data(base64Encoded: file.header.records[0].sealed)!)
        #expect(try derived.open(sealed).count > 0)
    }

    @Test("a vault from a newer format version is refused by version")
    func newerVersion() throws {
        try makeKeyFileVault()
        var bytes = vaultBytes()
        bytes.replaceSubrange(0..<16, with: Array("TOKENRUN-VAULT 3".utf8))
        try writeVault(bytes)
        expectUntouched({ if case .vaultVersionUnsupported(_, 3, 2) = $0 { true } else { false } }) {
            _ = try vault.unlock(keys)
        }
        expectUntouched({ if case .vaultVersionUnsupported(_, 3, 2) = $0 { true } else { false } }) {
            _ = try vault.unlock(keys, prefetching: ["acme"])
        }
        expectUntouched({ if case .vaultVersionUnsupported = $0 { true } else { false } }) {
            _ = try vault.unlockOrCreate(keys, now: 1)
        }
    }

    @Test("regression: a version word with an escape sequence, or thousands of characters long, is quoted escaped and cut")
    func hostileVersionWord() throws {
        try makeKeyFileVault()
        for first in ["TOKENRUN-VAULT 1\u{1B}[2J", "TOKENRUN-VAULT " + String(repeating: "\"", count: 5000)] {
            try writeVault(Array((first + "\n{}\nmac AAAA\n").utf8))
            expectUntouched({ error in
                let summary = error.summary
                return summary.contains("unreadable version \"") && summary.count < 300
                    && !summary.unicodeScalars.contains { $0.value < 0x20 }
            }) { _ = try vault.unlock(keys) }
        }
    }

    @Test("a file that is not a vault is refused and kept")
    func notAVault() throws {
        try makeKeyFileVault()
        try writeVault(Array("hello\nworld\n".utf8))
        expectUntouched({ if case .vaultCorrupt = $0 { true } else { false } }) { _ = try vault.unlock(keys) }
        try writeVault([0xff, 0x00, 0x13])
        expectUntouched({ _ in true }) { _ = try vault.unlock(keys) }
    }

    @Test("a vault or key file readable by others is refused with the chmod that fixes it")
    func unsafePermissions() throws {
        try makeKeyFileVault()
        chmod(vaultPath, 0o644)
        expectUntouched({ $0.hints.contains("chmod 600 \(vaultPath)") }) { _ = try vault.unlock(keys) }
        chmod(vaultPath, 0o600)
        let keyPath = keys.keyFileForNewVault
        chmod(keyPath, 0o640)
        expectUntouched({
            if case .unsafePermissions(let path, 0o640, _) = $0 { path == keyPath && $0.hints == ["chmod 600 \(keyPath)"] } else { false }
        }) { _ = try vault.unlock(keys) }
    }

    @Test("a vault replaced by a symbolic link is refused")
    func symlinkVault() throws {
        try makeKeyFileVault()
        rename(vaultPath, vaultPath + ".real")
        symlink(vaultPath + ".real", vaultPath)
        expectUntouched({ if case .symbolicLink = $0 { true } else { false } }) { _ = try vault.unlock(keys) }
    }

    @Test("a vault owned by another user is refused", .enabled(if: geteuid() == 0))
    func wrongOwner() throws {
        try makeKeyFileVault()
        chown(vaultPath, 65534, 65534)
        expectUntouched({ if case .wrongOwner(_, 65534, _) = $0 { true } else { false } }) { _ = try vault.unlock(keys) }
    }

    @Test("key sources: TOKENRUN_KEY_FILE first, then the systemd credential, then the default key file")
    func keySourceOrder() throws {
        try makeKeyFileVault()
        let keyPath = keys.keyFileForNewVault
        let keyBytes = dir.read("config/tokenrun/vault.key")!
        try dir.write("creds/tokenrun-vault-key", bytes: keyBytes, mode: 0o400)
        try dir.write("wrong.key", bytes: [UInt8](repeating: 9, count: 32))

        var variables = env
        variables["CREDENTIALS_DIRECTORY"] = dir.file("creds")
        let fromCredential = try KeySources.resolve(for: .keyFile, vault: vaultPath, environment: KeyEnvironment(variables: variables))
        #expect(fromCredential.origin.contains("systemd credential"))
        #expect(try vault.unlock(KeyEnvironment(variables: variables)).credentials().count == 1)

        variables["TOKENRUN_KEY_FILE"] = dir.file("wrong.key")
        let fromVariable = try KeySources.resolve(for: .keyFile, vault: vaultPath, environment: KeyEnvironment(variables: variables))
        #expect(fromVariable.origin.contains("TOKENRUN_KEY_FILE"))

        let fromDefault = try KeySources.resolve(for: .keyFile, vault: vaultPath, environment: keys)
        #expect(fromDefault.origin.contains(keyPath))
    }

    @Test("a passphrase variable set for a key-file vault is passed over and named when no key is found")
    func mismatchedSource() throws {
        try makeKeyFileVault()
        unlink(keys.keyFileForNewVault)
        var variables = env
        variables["TOKENRUN_PASSPHRASE"] = "x"
        expectUntouched({
            if case .noKeySource(_, "a key file", let skipped) = $0 {
                skipped.contains { $0.contains("TOKENRUN_PASSPHRASE is set") }
            } else {
                false
            }
        }) { _ = try vault.unlock(KeyEnvironment(variables: variables)) }
    }

    @Test("unlockOrCreate makes a key-file vault once and then reuses it")
    func unlockOrCreate() throws {
        let first = try vault.unlockOrCreate(keys, now: 1)
        #expect(first.created)
        try first.vault.store(credential("acme"))
        let second = try vault.unlockOrCreate(keys, now: 2)
        #expect(!second.created)
        #expect(try second.vault.credentials().count == 1)
    }

    @Test("a valid key file already in place is reused by a new vault, never overwritten")
    func keyFileReuse() throws {
        var key = [UInt8](repeating: 42, count: 32)
        try dir.write("config/tokenrun/vault.key", bytes: key)
        try makeKeyFileVault()
        #expect(dir.read("config/tokenrun/vault.key") == key)
        Sodium.zero(&key)
    }

    @Test("a write leaves only the vault and its lock; a killed writer's temporary file goes with the next read or write")
    func temporaryFiles() throws {
        try makeKeyFileVault()
        let directory = vaultPath.directoryName
        #expect(FileSystem.listDirectory(directory) == ["vault", "vault.lock"])
        // What a writer killed between its temporary file and the rename leaves (this version, then earlier ones).
        try dir.write("data/tokenrun/vault.tmp", "half a vault")
        try dir.write("data/tokenrun/vault.tmp-4242-a1b2c3", "half a vault")
        // A read takes no lock, but with no writer holding the lock it sweeps them.
        #expect(try vault.unlock(keys).credential(for: "acme") == credential("acme"))
        #expect(FileSystem.listDirectory(directory) == ["vault", "vault.lock"])
        try dir.write("data/tokenrun/vault.tmp", "half a vault")
        try dir.write("data/tokenrun/vault.tmp-4242-a1b2c3", "half a vault")
        try vault.unlock(keys).store(credential("other"))
        #expect(FileSystem.listDirectory(directory) == ["vault", "vault.lock"])
    }

    @Test("writers on many threads lose no record")
    func concurrentWriters() async throws {
        let unlocked = try makeKeyFileVault(with: [])
        let path = vaultPath
        let variables = env
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    // Each task unlocks on its own, as separate launches would.
                    let vault = SealedVault(storage: FileVaultStorage(path: path))
                    let mine = try? vault.unlock(KeyEnvironment(variables: variables))
                    try? mine?.store(Credential(profile: "p\(index)", refreshToken: SecretString("rt\(index)"), updatedAt: 1))
                }
            }
        }
        let names = try unlocked.credentials().map(\.profile)
        #expect(names.count == 16)
        #expect(Set(names) == Set((0..<16).map { "p\($0)" }))
    }
}
