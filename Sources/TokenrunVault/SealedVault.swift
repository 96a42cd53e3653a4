// Opening, creating and changing the vault. Policy:
// - Records are sealed to the public key *derived from the unwrapped secret
//   key*; the public key stored in the file is only compared, never trusted.
// - A file that fails any check (format, version, key, MAC, record) is never
//   rewritten or removed: every write re-reads and re-verifies the current
//   file under the exclusive lock first, and throws instead of writing.
// - Each sealed record carries its profile name, checked on opening, so a
//   record moved under another name fails.
import TokenrunAudit
import Synchronization
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials

/// What `vault status` shows without needing the key.
public struct VaultSummary: Sendable, Equatable {
    public let path: String
    public let keySource: KeySourceKind
    public let credentialCount: Int
    public let profiles: [String]
    public let createdAt: Int64
}

/// How a new vault's secret key is wrapped.
public enum NewVaultKey: Sendable {
    /// A 32-byte random key file at this path (created 0600 unless it already holds a valid key).
    case keyFile(path: String)
    /// A 32-byte key given as it is (a systemd credential); sealed like a key-file vault.
    case key(SecretBytes)
    /// A passphrase stretched with Argon2id at the given cost.
    case passphrase(SecretBytes, cost: PasswordHash.Cost)
}

/// The sealed vault behind a storage backend.
public struct SealedVault: Sendable {
    public let storage: any VaultStorage

    public init(storage: any VaultStorage) { self.storage = storage }

    static let keyIDPurpose = "tokenrun vault key id v1"
    /// Vaults up to this size are checked whole by a launch (about 1 µs per KiB).
    public static let wholeCheckLimit = 64 << 10
    static let macPurpose = "tokenrun vault mac v1"

    /// Reads the header without any key; nil when there is no vault.
    public func summary() throws -> VaultSummary? {
        guard let bytes = try storage.load() else { return nil }
        let file = try decode(bytes)
        return VaultSummary(
            path: storage.location, keySource: file.header.keySource, credentialCount: file.header.records.count,
            profiles: file.header.records.map(\.profile), createdAt: file.header.createdAt)
    }

    /// Unlocks an existing vault with its first key (SealedVault+KeyResolution.swift) and checks the whole file.
    public func unlock(_ environment: KeyEnvironment) throws -> UnlockedVault {
        guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
        let file = try decode(bytes)
        let unlocked = try unwrapWithFirstKey(file.header, environment: environment).vault
        try unlocked.verify(file)
        return unlocked
    }

    /// Creates a new vault; throws `vaultExists` when there is one already.
    @discardableResult
    public func create(_ key: NewVaultKey, now: Int64) throws -> UnlockedVault {
        guard let unlocked = try createIfAbsent(key, now: now) else {
            throw TokenrunError.vaultExists(path: storage.location)
        }
        return unlocked
    }

    /// Unlocks the vault, creating a key-file vault first when there is none.
    /// `created` is true when this call made it (the caller says where, on stderr).
    public func unlockOrCreate(_ environment: KeyEnvironment, now: Int64) throws -> (vault: UnlockedVault, created: Bool) {
        if try storage.load() == nil,
            let made = try createIfAbsent(try KeySources.newVaultKey(.keyFile, environment: environment).key, now: now)
        {
            return (made, true)
        }
        return (try unlock(environment), false)
    }

    /// Creates the vault under the exclusive lock unless another process got there first (then nil).
    private func createIfAbsent(_ key: NewVaultKey, now: Int64) throws -> UnlockedVault? {
        var result: UnlockedVault?
        try storage.update { current in
            if current != nil { return nil }
            let pair = try crypto { try SealedBoxKeyPair.generate() }
            let wrapping: SecretBytes
            var kdf: KDFParameters?
            let kind: KeySourceKind
            switch key {
            case .keyFile(let path):
                wrapping = try Self.keyFileForNewVault(path)
                kind = .keyFile
            case .key(let key):
                wrapping = key
                kind = .keyFile
            case .passphrase(let passphrase, let cost):
                let salt = try crypto { try Sodium.randomBytes(PasswordHash.saltLength) }
                wrapping = try crypto {
                    try PasswordHash.deriveKey(
                        passphrase: passphrase, salt: salt, opsLimit: cost.opsLimit, memLimit: cost.memLimit)
                }
                kdf = KDFParameters(
                    algorithm: "argon2id13", salt: Base64.encode(salt), opsLimit: cost.opsLimit,
                    memLimit: cost.memLimit)
                kind = .passphrase
            }
            let keyID = try crypto { try Self.keyID(of: wrapping) }
            let wrapped = try crypto { try SecretBox.seal(pair.secretKey, key: wrapping) }
            let header = VaultFile.Header(
                keySource: kind, keyID: keyID, kdf: kdf, wrappedSecretKey: Base64.encode(wrapped),
                publicKey: Base64.encode(pair.publicKey), createdAt: now, records: [])
            let unlocked = try UnlockedVault(storage: storage, keyPair: pair, keyID: keyID, header: header)
            result = unlocked
            return try crypto { try VaultFile.serialize(header, macKey: unlocked.macKey) }
        }
        return result
    }

    /// Reuses a valid existing key file, or creates a new random one (0600, O_EXCL).
    static func keyFileForNewVault(_ path: String) throws -> SecretBytes {
        if (try? FileSystem.status(path)) ?? nil != nil {
            return try KeySources.readKeyFile(path)
        }
        do {
            try FileSystem.makeDirectories(path.directoryName)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the key directory")
        }
        var bytes = try crypto { try Sodium.randomBytes(KeySources.keyLength) }
        defer { Sodium.zero(&bytes) }
        do {
            try FileSystem.createExclusive(path, bytes: bytes)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the key file")
        }
        return try SecretBytes(consuming: &bytes)
    }

    static func keyID(of wrapping: SecretBytes) throws -> String {
        Base64.encode(try KeyedHash.hash(Array(keyIDPurpose.utf8), key: wrapping, length: 16))
    }

    /// Decodes the file, mapping format errors to user-facing ones.
    package func decode(_ bytes: [UInt8]) throws -> VaultFile {
        do {
            return try VaultFile.parse(bytes)
        } catch {
            throw userFacing(error)
        }
    }

    /// The error to show for a format error.
    func userFacing(_ error: VaultFile.FormatError) -> TokenrunError {
        let path = storage.location
        switch error {
        case .notAVault:
            return TokenrunError.vaultCorrupt(path: path, reason: "it does not start with the tokenrun vault header")
        case .unsupportedVersion(let found):
            return TokenrunError.vaultVersionUnsupported(path: path, found: found, supported: VaultFile.currentVersion)
        case .truncated:
            return TokenrunError.vaultTruncated(path: path)
        case .corrupt(let reason):
            return TokenrunError.vaultCorrupt(path: path, reason: reason)
        }
    }

    /// Unlocks the vault for a launch that needs the records of `profiles` only: it reads
    /// the header and finds each record by binary search, checking that record's own MAC,
    /// so the cost does not grow with the number of credentials.
    public func unlock(_ environment: KeyEnvironment, prefetching profiles: [String]) throws -> UnlockedVault {
        let found: (header: VaultFile.Header, records: [SealedRecord], whole: (bytes: [UInt8], mac: [UInt8])?)
        do {
            found = try storage.withReader { file in
                guard let file else { throw TokenrunError.vaultNotFound(path: storage.location) }
                // A vault of up to `wholeCheckLimit` bytes (dozens of credentials) is read whole
                // and its file MAC checked too, which also catches an older record spliced in
                // from a copy of the vault; only a larger one relies on its records' own MACs.
                let whole = file.count <= Self.wholeCheckLimit ? try file.bytes(0..<file.count) : nil
                let reader: any VaultReader = whole.map(VaultBytesReader.init) ?? file
                let index = try VaultFile.index(reader)
                var records: [SealedRecord] = []
                for profile in Set(profiles) {
                    if let record = try VaultFile.findRecord(profile, in: reader, index: index) { records.append(record) }
                }
                return (index.header, records, whole.map { (Array($0[..<index.records.upperBound]), index.mac) })
            }
        } catch let error as VaultFile.FormatError {
            throw userFacing(error)
        }
        var header = found.header
        header.records = found.records
        let unlocked = try unwrapWithFirstKey(header, environment: environment, derivePublicKey: false).vault
        if let whole = found.whole {
            let expected = try crypto { try KeyedHash.hash(whole.bytes, key: unlocked.macKey) }
            guard Sodium.constantTimeEqual(expected, whole.mac) else {
                throw TokenrunError.vaultTampered(path: storage.location, reason: "its authentication code does not match its contents")
            }
        }
        do {
            for record in found.records { try unlocked.verifyRecord(record) }
        } catch {
            // Something is wrong: read and check the whole file, whose verdict names the damage
            // the way every other command does; the record's own error if the whole file passes.
            guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
            try unlocked.verify(try decode(bytes))
            throw error
        }
        return unlocked
    }

    /// Applies key material to a header: key id, unwrap, public key.
    /// With `derivePublicKey` false (a launch that only opens records) the header's public
    /// key is used to open without being derived and compared: a wrong one makes the
    /// record fail to open, and nothing is sealed to it (`UnlockedVault.sealingPair`).
    func unwrap(_ header: VaultFile.Header, with material: KeyMaterial, derivePublicKey: Bool = true) throws -> UnlockedVault {
        let path = storage.location
        let wrapping: SecretBytes
        switch material {
        case .keyFile(let key, _):
            wrapping = key
        case .passphrase(let passphrase, _):
            guard let kdf = header.kdf, kdf.algorithm == "argon2id13", let salt = Base64.decode(canonical: kdf.salt),
                salt.count == PasswordHash.saltLength,
                PasswordHash.limitsAreSane(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit)
            else {
                throw TokenrunError.vaultCorrupt(path: path, reason: "its passphrase parameters are missing or out of range")
            }
            wrapping = try crypto {
                try PasswordHash.deriveKey(
                    passphrase: passphrase, salt: salt, opsLimit: kdf.opsLimit, memLimit: kdf.memLimit)
            }
        }
        guard try crypto({ try Self.keyID(of: wrapping) }) == header.keyID else {
            switch material {
            case .keyFile(_, let origin): throw TokenrunError.wrongKey(source: origin, vault: path)
            case .passphrase(_, let origin): throw TokenrunError.wrongPassphrase(source: origin, vault: path)
            }
        }
        guard let wrapped = Base64.decode(canonical: header.wrappedSecretKey),
            let secret = try? SecretBox.open(wrapped, key: wrapping)
        else {
            throw TokenrunError.vaultTampered(path: path, reason: "its wrapped secret key fails authentication")
        }
        if !derivePublicKey, let claimed = Base64.decode(canonical: header.publicKey),
            let pair = try? SealedBoxKeyPair(secretKey: secret, unverifiedPublicKey: claimed)
        {
            return try UnlockedVault(storage: storage, keyPair: pair, keyID: header.keyID, header: header, publicKeyVerified: false)
        }
        guard let pair = try? SealedBoxKeyPair(secretKey: secret) else {
            throw TokenrunError.vaultTampered(path: path, reason: "its wrapped secret key fails authentication")
        }
        guard Base64.encode(pair.publicKey) == header.publicKey else {
            throw TokenrunError.vaultTampered(path: path, reason: "its public key does not belong to its secret key")
        }
        return try UnlockedVault(storage: storage, keyPair: pair, keyID: header.keyID, header: header)
    }
}

/// A vault whose secret key is in memory: reads and changes records.
public final class UnlockedVault: Sendable {
    public let storage: any VaultStorage
    let keyPair: SealedBoxKeyPair
    let keyID: String
    let macKey: SecretBytes
    /// The key of each record's own MAC.
    let recordKey: SecretBytes
    /// The header as last read or written by this process.
    let header: VaultFile.Header

    /// Whether `keyPair.publicKey` was derived from the secret key (else taken from the header).
    let publicKeyVerified: Bool

    /// Records this process has opened or sealed, by profile and sealed text: a refresh reads
    /// its record up to three times (the launch, the re-read under the lease, the write's
    /// check), and the same authenticated bytes open to the same credential, so the X25519
    /// operation is done once. Only records whose MAC was checked reach `open`.
    let opened = Mutex<[String: Credential]>([:])

    init(
        storage: any VaultStorage, keyPair: SealedBoxKeyPair, keyID: String, header: VaultFile.Header,
        publicKeyVerified: Bool = true
    ) throws {
        self.storage = storage
        self.keyPair = keyPair
        self.publicKeyVerified = publicKeyVerified
        self.keyID = keyID
        self.header = header
        let macKey = try crypto { try KeyedHash.deriveSubkey(from: keyPair.secretKey, purpose: SealedVault.macPurpose) }
        self.macKey = macKey
        recordKey = try crypto { try VaultFile.recordKey(macKey: macKey) }
    }

    /// How the vault is sealed.
    public var keySource: KeySourceKind { header.keySource }

    /// The key that chains the audit trail: a subkey of this vault's secret key, never the key itself.
    public func auditKey() throws -> AuditKey {
        try crypto { try AuditKey(vaultSecretKey: keyPair.secretKey) }
    }

    /// The pair to seal new records with: its public key derived from the secret key,
    /// never taken from the file.
    func sealingPair() throws -> SealedBoxKeyPair {
        if publicKeyVerified { return keyPair }
        let derived = try crypto { try SealedBoxKeyPair(secretKey: keyPair.secretKey) }
        guard derived.publicKey == keyPair.publicKey else {
            throw TokenrunError.vaultTampered(path: storage.location, reason: "its public key does not belong to its secret key")
        }
        return derived
    }

    /// `credential` sealed under its profile name.
    func record(sealing credential: Credential, with sealer: SealedBoxKeyPair) throws -> SealedRecord {
        let sealed = try crypto { try sealer.seal(try Self.encode(credential)) }
        let record = SealedRecord(profile: credential.profile, sealed: Base64.encode(sealed))
        opened.withLock { $0[record.profile + " " + record.sealed] = credential }
        return record
    }

    /// Checks that `file` was written under this vault's key.
    func verify(_ file: VaultFile) throws {
        let path = storage.location
        guard file.header.keyID == keyID, file.header.publicKey == header.publicKey else {
            throw TokenrunError.vaultTampered(path: path, reason: "it was re-keyed by something other than this process")
        }
        let expected = try crypto { try KeyedHash.hash(file.authenticatedBytes, key: macKey) }
        guard Sodium.constantTimeEqual(expected, file.mac) else {
            throw TokenrunError.vaultTampered(path: path, reason: "its authentication code does not match its contents")
        }
        for record in file.header.records { try verifyRecord(record) }
    }

    /// Checks a record's own MAC: it was sealed under this name in this vault.
    func verifyRecord(_ record: SealedRecord) throws {
        guard let mac = record.mac, let given = Base64.decode(canonical: mac),
            Sodium.constantTimeEqual(given, Array(try crypto { try KeyedHash.hash(record.authenticatedBytes, key: recordKey) }))
        else {
            throw TokenrunError.vaultTampered(
                path: storage.location, reason: "the record for \(Quoting.message(record.profile)) fails authentication")
        }
    }

    /// Every credential in the vault, each opened and checked.
    public func credentials() throws -> [Credential] {
        guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
        let file = try SealedVault(storage: storage).decode(bytes)
        try verify(file)
        return try file.header.records.map(open)
    }

    /// The credential as it was when the vault was unlocked, without reading the
    /// file again; nil when it had none, and then the file is read again (it may
    /// have been stored since). The warm path decides "still fresh" from this;
    /// any change happens under the lock from a fresh read.
    public func credentialAsUnlocked(for profile: String) throws -> Credential? {
        if let record = header.records.first(where: { $0.profile == profile }) { return try open(record) }
        return try credential(for: profile)
    }

    /// The credential stored for `profile`, or nil.
    public func credential(for profile: String) throws -> Credential? {
        guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
        let file = try SealedVault(storage: storage).decode(bytes)
        try verify(file)
        return try file.header.records.first { $0.profile == profile }.map(open)
    }

    /// Stores `credential`, replacing any record for the same profile.
    public func store(_ credential: Credential) throws {
        try updateCredential(for: credential.profile) { _ in credential }
    }

    /// Stores many credentials in one write: for each profile, `make` gets the current
    /// credential (or nil) and returns the new one. Returns the profiles that had one.
    @discardableResult
    public func storeAll(_ changes: [String: @Sendable (Credential?) -> Credential]) throws -> Set<String> {
        var replaced = Set<String>()
        let sealer = try sealingPair()
        try modify { records in
            var byName: [String: SealedRecord] = [:]
            for record in records { byName[record.profile] = record }
            for (profile, make) in changes {
                let current = try byName[profile].map(open)
                if current != nil { replaced.insert(profile) }
                let next = make(current)
                precondition(next.profile == profile, "a record must stay under its own profile name")
                byName[profile] = try record(sealing: next, with: sealer)
            }
            records = Array(byName.values)
            return true
        }
        return replaced
    }

    /// Removes the record for `profile`; false when there was none.
    @discardableResult
    public func remove(profile: String) throws -> Bool {
        var removed = false
        try modify { records in
            let before = records.count
            records.removeAll { $0.profile == profile }
            removed = records.count != before
            return removed
        }
        return removed
    }

    /// Under the exclusive lock: re-reads the record for `profile`, lets `change`
    /// decide what to store (nil: leave it as it is), and writes it in the same
    /// locked step. Returns what `change` returned. This is the single-flight
    /// primitive: a concurrent caller waits here and then sees the new record.
    @discardableResult
    public func updateCredential(for profile: String, _ change: (Credential?) throws -> Credential?) throws -> Credential? {
        var result: Credential?
        try modify { records in
            let current = try records.first { $0.profile == profile }.map(open)
            guard let next = try change(current) else {
                result = current
                return false
            }
            result = next
            if next == current { return false }
            precondition(next.profile == profile, "a record must stay under its own profile name")
            let sealed = try record(sealing: next, with: try sealingPair())
            records.removeAll { $0.profile == profile }
            records.append(sealed)
            return true
        }
        return result
    }

    /// Re-reads and re-verifies the vault under the exclusive lock, lets `change`
    /// edit the records, and writes the result when it returns true. Throws
    /// (writing nothing) if the current file does not verify.
    private func modify(_ change: (inout [SealedRecord]) throws -> Bool) throws {
        let vault = SealedVault(storage: storage)
        try storage.update { current in
            guard let current else { throw TokenrunError.vaultNotFound(path: storage.location) }
            let file = try vault.decode(current)
            try verify(file)
            // Every record must still be intact before the file is rewritten: a damaged
            // record is reported, not silently carried forward or dropped (`verify`
            // checked each record's own MAC).
            var header = file.header
            guard try change(&header.records) else { return nil }
            return try crypto { try VaultFile.serialize(header, macKey: macKey) }
        }
    }

    package func open(_ record: SealedRecord) throws -> Credential {
        let key = record.profile + " " + record.sealed
        if let known = opened.withLock({ $0[key] }) { return known }
        let credential = try openSealed(record)
        opened.withLock { $0[key] = credential }
        return credential
    }

    private func openSealed(_ record: SealedRecord) throws -> Credential {
        let path = storage.location
        guard let sealed = Base64.decode(canonical: record.sealed),
            let plaintext = try? keyPair.open(sealed)
        else {
            throw TokenrunError.vaultTampered(
                path: path, reason: "the record for \(Quoting.message(record.profile)) fails authentication")
        }
        let credential: Credential
        do {
            credential = try plaintext.withUnsafeBytes { try Credential(json: try JSONReader.parse($0)) }
        } catch {
            throw TokenrunError.vaultCorrupt(path: path, reason: "the record for \(Quoting.message(record.profile)) is unreadable")
        }
        guard credential.profile == record.profile else {
            throw TokenrunError.recordMoved(path: path, storedAs: record.profile, sealedFor: credential.profile)
        }
        return credential
    }

    static func encode(_ credential: Credential) throws -> SecretBytes {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = Array(try encoder.encode(credential))
        return try SecretBytes(consuming: &bytes)
    }
}
