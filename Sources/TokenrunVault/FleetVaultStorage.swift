// Fleet mode's vault storage: this host's vault file as the local copy, and the
// shared vault in PostgreSQL as the one every host agrees on.
//
// - Reads (every launch) are the local file's: a warm launch, whose token is
//   fresh, makes no database round trip at all, and does not even look up
//   whether there is a shared vault (that is read only when a lease or a write
//   needs it).
// - The refresh lease is the local file lease first (launches of one host queue
//   there, and the one that holds it speaks for the host), then a database
//   lease: a transaction holding an advisory lock keyed by the credential,
//   taken with a bounded wait (lock_timeout). Holding it, the credential's row
//   is read and, when another host wrote a newer record, copied into the local
//   file, so the refresher's re-read sees it and does not refresh again. The
//   transaction stays open across the token request and the write, and commits
//   on release; a host that dies (even SIGKILL) drops its connection, and the
//   server rolls back and frees the lock for the next host.
// - Writes go to the local file first (under its lock, as always), then to the
//   credential's row: inside the held lease's transaction for a refresh, in a
//   transaction of their own otherwise (import, login, revoke), which takes the
//   credential's lease first.
// - A write the shared vault did not take (the database down, the commit
//   failed) stays in the local file, and the credential is noted in
//   `vault.fleet-pending` (before the local write, with the row version it was
//   based on): the next lease of it sends this host's record to the database
//   instead of taking the row's (older) one, so nothing is lost; a note whose
//   change never reached the file, or that the row has moved on from, is dropped.
import Synchronization
import TokenrunSupport

/// The local vault file, with a shared vault behind it when one is configured.
public struct FleetVaultStorage: VaultStorage {
    public let local: FileVaultStorage
    /// The shared vault, looked up only when a lease or a write needs it (never on the warm path).
    let sharedURL: @Sendable () throws -> SharedVaultURL?
    let environment: [String: String]

    public init(local: FileVaultStorage, environment: [String: String], sharedURL: @escaping @Sendable () throws -> SharedVaultURL?) {
        self.local = local
        self.environment = environment
        self.sharedURL = sharedURL
    }

    public var location: String { local.location }

    /// Written by `vault init` with a shared vault: this file is a fleet's copy (the redacted URL).
    public var memberPath: String { local.path + ".shared" }

    /// Marks this host's vault as a copy of the shared vault at `url`.
    public func markMember(of url: SharedVaultURL) throws {
        do {
            try FileSystem.replaceAtomically(memberPath, bytes: Array((url.shown + "\n").utf8))
        } catch {
            throw TokenrunError.fileSystem(error, what: "the vault's fleet mark")
        }
    }

    /// The shared vault to use now; a vault marked as a fleet's copy with none configured is
    /// refused, so that a job without the URL (cron) never refreshes alone.
    func sharedVault() throws -> SharedVaultURL? {
        if let url = try sharedURL() { return url }
        if let mark = try? FileSystem.readFile(memberPath, limit: 4096) {
            let shown = String(decoding: mark, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "?"
            throw TokenrunError.sharedVaultNotConfigured(vault: local.path, sharedWith: shown)
        }
        return nil
    }

    /// The changes the shared vault may not have yet: per credential, the sealed text this
    /// host wrote ("" for a removal) and the row version it was based on ("-": not known).
    /// Written under the vault's write lock before the local write, cleared after the commit.
    var pendingPath: String { local.path + ".fleet-pending" }

    struct PendingChange: Equatable {
        var sealed: String
        var base: String
    }

    func pending() -> [String: PendingChange] {
        guard let bytes = try? FileSystem.readFile(pendingPath, limit: 1 << 20) else { return [:] }
        var entries: [String: PendingChange] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            entries[String(fields[0])] = PendingChange(sealed: String(fields[1]), base: String(fields[2]))
        }
        return entries
    }

    /// Rewrites the pending file; the caller holds the vault's write lock.
    func writePending(_ entries: [String: PendingChange]) {
        if entries.isEmpty {
            _ = FileSystem.removeFile(pendingPath)
            return
        }
        let text = entries.keys.sorted().map { "\($0)\t\(entries[$0]!.sealed)\t\(entries[$0]!.base)\n" }.joined()
        try? FileSystem.replaceAtomically(pendingPath, bytes: Array(text.utf8))
    }

    /// Clears the entries of `sent` (credential → sealed text) that still say what was sent,
    /// under the vault's write lock: a later change of the same credential stays noted.
    public func clearPending(_ sent: [String: String]) {
        let lock = try? FileLock(path: local.lockPath, mode: .exclusive)
        defer { lock?.unlock() }
        var entries = pending()
        let before = entries
        for (name, sealed) in sent where entries[name]?.sealed == sealed { entries[name] = nil }
        if entries != before { writePending(entries) }
    }

    public var leases: any RefreshLeases {
        FleetRefreshLeases(local: local.leases, storage: self)
    }

    public func load() throws -> [UInt8]? { try local.load() }

    public func withReader<T>(_ body: ((any VaultReader)?) throws -> T) throws -> T { try local.withReader(body) }

    public func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws {
        // Which shared vault first: a fleet's copy with no URL here writes nothing at all.
        let url = try sharedVault()
        var changes: (written: [SealedRecord], removed: [String]) = ([], [])
        try local.update { current in
            guard let after = try body(current) else { return nil }
            if url != nil {
                // Noted before the local write (under the same lock): if this process dies
                // before the database has it, the next lease sends it rather than lose it.
                changes = Self.changes(from: current, to: after)
                var entries = pending()
                let held = FleetRefreshLeases.held.withLock { $0 }
                for record in changes.written {
                    entries[record.profile] = PendingChange(sealed: record.sealed, base: held[record.profile]?.baseVersion ?? "-")
                }
                for name in changes.removed { entries[name] = PendingChange(sealed: "", base: held[name]?.baseVersion ?? "-") }
                if !changes.written.isEmpty || !changes.removed.isEmpty { writePending(entries) }
            }
            return after
        }
        guard let url, !changes.written.isEmpty || !changes.removed.isEmpty else { return }
        do {
            let committed = try publish(changes, url: url)
            clearPending(committed)
        } catch let error as TokenrunError {
            // The local write stands and is sent with the next lease (nothing is lost); the
            // error says the fleet has not got it yet.
            throw TokenrunError.sharedVaultNotUpdated(location: url.shown, reason: error.summary)
        }
    }

    /// Records written (new or changed) and removed between two versions of the vault file.
    static func changes(from before: [UInt8]?, to after: [UInt8]) -> (written: [SealedRecord], removed: [String]) {
        let old = (before.flatMap { try? VaultFile.parse($0) }?.header.records) ?? []
        guard let new = try? VaultFile.parse(after).header.records else { return ([], []) }
        var oldByName: [String: String] = [:]
        for record in old { oldByName[record.profile] = record.sealed }
        let written = new.filter { oldByName[$0.profile] != $0.sealed }
        let kept = Set(new.map(\.profile))
        return (written, old.map(\.profile).filter { !kept.contains($0) })
    }

    /// Writes changed rows: in a held lease's transaction for its credential (committed, and
    /// its pending entry cleared, when the lease ends), else in a transaction of their own.
    /// Returns what this call committed (credential → sealed text, "" for a removal).
    func publish(_ changes: (written: [SealedRecord], removed: [String]), url: SharedVaultURL) throws -> [String: String] {
        let host = SharedVault.hostName(environment: environment)
        var rest = changes
        for (credential, lease) in FleetRefreshLeases.held.withLock({ $0 }) {
            if let record = rest.written.first(where: { $0.profile == credential }) {
                if try lease.shared.put(record, host: host) { lease.sent = record.sealed }
                rest.written.removeAll { $0.profile == credential }
            }
        }
        if rest.written.isEmpty && rest.removed.isEmpty { return [:] }
        let shared = SharedVault(session: try PostgresSession.open(url, environment: environment))
        defer { shared.session.close() }
        try shared.transaction {
            // Each credential's lease first, in name order: a refresh elsewhere finishes before this write.
            try shared.session.execute("SELECT set_config('lock_timeout', '30s', true)")
            for name in Set(rest.written.map(\.profile) + rest.removed).sorted() {
                guard try shared.lock(name, waiting: 30) else {
                    throw TokenrunError.sharedVaultUnavailable(
                        location: url.shown, reason: "another host held the lease of \(name) for over 30 s")
                }
            }
            for record in rest.written { try shared.put(record, host: host) }
            for name in rest.removed { try shared.remove(name) }
        }
        var committed: [String: String] = [:]
        for record in rest.written { committed[record.profile] = record.sealed }
        for name in rest.removed { committed[name] = "" }
        return committed
    }
}

/// The local lease, then the credential's database lease.
struct FleetRefreshLeases: RefreshLeases {
    let local: any RefreshLeases
    let storage: FleetVaultStorage

    /// The database leases this process holds, by credential (a write during the lease goes
    /// into its transaction).
    static let held = Mutex<[String: FleetLease]>([:])

    func acquire(_ credential: String, waitingAtMost seconds: Double) throws -> LeaseAcquisition {
        let started = Monotonic.seconds()
        let localLease: any RefreshLease
        switch try local.acquire(credential, waitingAtMost: seconds) {
        case .held(let lease): localLease = lease
        case let other: return other  // another process of this host refreshed it, or still does
        }
        let url: SharedVaultURL?
        do {
            url = try storage.sharedVault()
        } catch {
            localLease.release()
            throw error
        }
        guard let url else { return .held(localLease) }
        var session: PostgresSession?
        do {
            let shared = SharedVault(session: try PostgresSession.open(url, environment: storage.environment))
            session = shared.session
            let left = max(0.001, seconds - (Monotonic.seconds() - started))
            // READ COMMITTED, so that the row read after the lock wait is the one committed last;
            // no idle timeout, so that a slow token request does not end the lease under it.
            try shared.session.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try shared.session.execute(
                "SELECT set_config('lock_timeout', $1, true), set_config('idle_in_transaction_session_timeout', '0', true)",
                ["\(Int(left * 1000))ms"])
            guard try shared.lock(credential, waiting: left) else {
                session = nil
                shared.session.close()
                localLease.release()
                return .timedOut(holder: "another host of the fleet")
            }
            let host = SharedVault.hostName(environment: storage.environment)
            // The row as it is now (another host may have refreshed meanwhile).
            let row = try shared.record(credential)
            var sharedRecord = row?.record
            var sent: String?
            if let change = storage.pending()[credential] {
                // A change of this host's the shared vault may lack. It counts only if this
                // host's file holds it (else the process died before writing it) and the row has
                // not moved on since the change was based on it (else it is stale: the row wins).
                guard let bytes = try storage.local.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
                let mine = try SealedVault(storage: storage.local).decode(bytes).header.records.first { $0.profile == credential }
                let inFile = (mine?.sealed ?? "") == change.sealed
                let arrived = (row?.record.sealed ?? "") == change.sealed
                let current = change.base == "-" || change.base == (row.map { "\($0.version)" } ?? "0")
                if inFile && !arrived && current {
                    if let mine { try shared.put(mine, host: host) } else { try shared.remove(credential) }
                    sent = change.sealed
                    sharedRecord = nil
                } else {
                    storage.clearPending([credential: change.sealed])
                }
            }
            let lease = FleetLease(
                credential: credential, shared: shared, local: localLease, host: host, sharedRecord: sharedRecord,
                storage: storage, baseVersion: row.map { "\($0.version)" } ?? "0")
            lease.sent = sent
            Self.held.withLock { $0[credential] = lease }
            return .held(lease)
        } catch {
            session?.close()
            localLease.release()
            throw error
        }
    }
}

/// A held database lease: an open transaction holding the credential's advisory lock.
final class FleetLease: RefreshLease, @unchecked Sendable {
    let credential: String
    let shared: SharedVault
    let local: any RefreshLease
    let host: String
    let sharedRecord: SealedRecord?
    var sharedLocation: String { shared.location }
    /// The sealed text this lease's transaction wrote into the credential's row ("" removed), if any.
    var sent: String?
    /// The row's version when the lease was taken ("0": no row), for the pending entry of a write.
    let baseVersion: String
    private var outcome: (String, Bool)?
    private var released = false

    let storage: FleetVaultStorage

    init(
        credential: String, shared: SharedVault, local: any RefreshLease, host: String, sharedRecord: SealedRecord?,
        storage: FleetVaultStorage, baseVersion: String
    ) {
        self.baseVersion = baseVersion
        self.credential = credential
        self.shared = shared
        self.local = local
        self.host = host
        self.sharedRecord = sharedRecord
        self.storage = storage
    }

    func recordRefresh(outcome: String, rotated: Bool) { self.outcome = (outcome, rotated) }

    func release() { _ = finish() }

    /// Logs the refresh and commits (the row and the log go in together), then lets go of
    /// the connection (and so the lock) and the local lease.
    func finish() -> [String] {
        guard !released else { return [] }
        released = true
        _ = FleetRefreshLeases.held.withLock { $0.removeValue(forKey: credential) }
        var warnings: [String] = []
        do {
            if let (outcome, rotated) = outcome {
                try shared.logRefresh(credential, host: host, outcome: outcome, rotated: rotated)
            }
            try shared.session.commit()
            if let sent { storage.clearPending([credential: sent]) }
        } catch {
            let reason = (error as? TokenrunError)?.summary ?? "\(error)"
            if sent != nil {
                // Its pending entry stays: the next lease sends it.
                warnings.append(
                    "the new record of \(credential) is stored on this host only: the shared vault did not take it (\(reason)); this host sends it with its next refresh, or now: tokenrun vault push --replace"
                )
            } else {
                warnings.append("the shared vault's lease of \(credential) did not end cleanly: \(reason)")
            }
        }
        shared.session.close()
        local.release()
        return warnings
    }

    deinit { release() }
}
