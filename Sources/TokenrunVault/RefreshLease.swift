// The refresh lease: who may refresh a credential right now. A refresh holds
// its credential's lease across re-read → token request → write, so that two
// processes never send the same refresh token (a rotating provider would see
// the second as reuse and revoke the grant). The lease is per credential, so a
// slow provider delays only the launches that need that same credential; the
// vault's own write lock is taken only for the milliseconds of a file write,
// and a launch whose token is fresh takes neither.
//
// A backend implements it with whatever dies with its holder: a lock file here
// (flock, released by the kernel when the process dies, SIGKILL included), a
// row or advisory lock held by a database connection in a shared vault.

/// A held lease; released by `release()` or when its holder dies.
public protocol RefreshLease: AnyObject, Sendable {
    func release()

    /// The credential's record as a shared vault held it when the lease was taken, for the
    /// holder to copy into this host's vault before it re-reads (another host may have
    /// refreshed it); nil for a vault of one host.
    var sharedRecord: SealedRecord? { get }

    /// Where `sharedRecord` came from (the shared vault's URL, redacted), for messages.
    var sharedLocation: String { get }

    /// Notes how the refresh ended, for a shared vault's log of who refreshed.
    func recordRefresh(outcome: String, rotated: Bool)

    /// Releases the lease; what went wrong in doing so, as warnings (a shared vault that did
    /// not take the refreshed record).
    func finish() -> [String]
}

extension RefreshLease {
    public var sharedRecord: SealedRecord? { nil }
    public var sharedLocation: String { "" }
    public func recordRefresh(outcome: String, rotated: Bool) {}
    public func finish() -> [String] {
        release()
        return []
    }
}

/// How a request for a credential's lease ended.
public enum LeaseAcquisition: Sendable {
    /// This process holds the lease until it releases it.
    case held(any RefreshLease)
    /// Another process held it and has let go: re-read the record, which it has
    /// probably refreshed (waiters wake together rather than one by one).
    case releasedByOther
    /// Another process still held it when the wait ran out.
    case timedOut(holder: String?)
}

/// Per-credential refresh leases of one vault.
public protocol RefreshLeases: Sendable {
    /// Takes the lease of `credential` when it is free; otherwise waits, at most
    /// `seconds`, for its holder to let go, and says so without taking it.
    func acquire(_ credential: String, waitingAtMost seconds: Double) throws -> LeaseAcquisition
}
