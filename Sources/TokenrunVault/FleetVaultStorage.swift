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
//   statement of their own otherwise (import, login, revoke).
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

    public var leases: any RefreshLeases {
        FleetRefreshLeases(local: local.leases, storage: self)
    }

    public func load() throws -> [UInt8]? { try local.load() }

    public func withReader<T>(_ body: ((any VaultReader)?) throws -> T) throws -> T { try local.withReader(body) }

    public func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws {
        var before: [UInt8]?
        var after: [UInt8]?
        try local.update { current in
            before = current
            after = try body(current)
            return after
        }
        guard let after, let url = try sharedURL() else { return }
        let changes = Self.changes(from: before, to: after)
        if changes.written.isEmpty && changes.removed.isEmpty { return }
        do {
            try publish(changes, url: url)
        } catch let error as TokenrunError {
            // The local write stands (nothing is lost); the error says the fleet did not get it.
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

    /// Writes changed rows: in a held lease's transaction for its credential, else on their own.
    func publish(_ changes: (written: [SealedRecord], removed: [String]), url: SharedVaultURL) throws {
        let host = SharedVault.hostName(environment: environment)
        var rest = changes
        for (credential, lease) in FleetRefreshLeases.held.withLock({ $0 }) {
            if let record = rest.written.first(where: { $0.profile == credential }) {
                try lease.shared.put(record, host: host)
                lease.wrote = true
                rest.written.removeAll { $0.profile == credential }
            }
        }
        if rest.written.isEmpty && rest.removed.isEmpty { return }
        let shared = SharedVault(session: try PostgresSession.open(url, environment: environment))
        defer { shared.session.close() }
        try shared.transaction {
            for record in rest.written { try shared.put(record, host: host) }
            for name in rest.removed { try shared.remove(name) }
        }
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
        guard let url = try storage.sharedURL() else { return .held(localLease) }
        do {
            let shared = SharedVault(session: try PostgresSession.open(url, environment: storage.environment))
            let left = max(0.001, seconds - (Monotonic.seconds() - started))
            try shared.session.execute("BEGIN")
            try shared.session.execute("SELECT set_config('lock_timeout', $1, true)", ["\(Int(left * 1000))ms"])
            let locked = try shared.session.executeUnlessLocked(
                "SELECT pg_advisory_xact_lock(hashtextextended('tokenrun refresh ' || $1, 0))", [credential], waiting: left)
            guard locked else {
                shared.session.close()
                localLease.release()
                return .timedOut(holder: "another host of the fleet")
            }
            // Holding it: the row as it is now (another host may have refreshed meanwhile).
            let lease = FleetLease(
                credential: credential, shared: shared, local: localLease, host: SharedVault.hostName(environment: storage.environment),
                sharedRecord: try shared.record(credential)?.record)
            Self.held.withLock { $0[credential] = lease }
            return .held(lease)
        } catch {
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
    /// Whether this lease's transaction wrote the credential's row.
    var wrote = false
    private var outcome: (String, Bool)?
    private var released = false

    init(credential: String, shared: SharedVault, local: any RefreshLease, host: String, sharedRecord: SealedRecord?) {
        self.credential = credential
        self.shared = shared
        self.local = local
        self.host = host
        self.sharedRecord = sharedRecord
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
            try shared.session.execute("COMMIT")
        } catch {
            let reason = (error as? TokenrunError)?.summary ?? "\(error)"
            warnings.append(
                wrote
                    ? "the refreshed record of \(credential) is stored on this host only, the shared vault did not take it (\(reason)): run tokenrun vault push --replace once it is reachable, before another host refreshes"
                    : "the shared vault's lease of \(credential) did not end cleanly: \(reason)")
        }
        shared.session.close()
        local.release()
        return warnings
    }

    deinit { release() }
}
