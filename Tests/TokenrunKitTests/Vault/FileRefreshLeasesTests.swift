import Testing
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

@Suite("file refresh leases")
struct FileRefreshLeasesTests {
    let dir = TemporaryDirectory()
    var leases: FileRefreshLeases { FileRefreshLeases(directory: dir.path + "/vault.leases") }

    @Test("a free lease is held, and a second holder waits, then times out naming the holder's pid; other credentials are free")
    func heldThenTimedOut() throws {
        guard case .held(let lease) = try leases.acquire("acme", waitingAtMost: 0) else {
            Issue.record("a free lease was not given")
            return
        }
        defer { lease.release() }
        guard case .timedOut(let holder) = try leases.acquire("acme", waitingAtMost: 0.05) else {
            Issue.record("a held lease was given twice")
            return
        }
        #expect(holder == "\(getpid())")
        guard case .held(let other) = try leases.acquire("other", waitingAtMost: 0) else {
            Issue.record("another credential's lease waited on acme's")
            return
        }
        other.release()
    }

    @Test("a waiter learns when the holder lets go, without taking the lease")
    func releasedByOther() throws {
        guard case .held(let lease) = try leases.acquire("acme", waitingAtMost: 0) else {
            Issue.record("a free lease was not given")
            return
        }
        let holder = LeaseBox(lease)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(holder).toOpaque()
        pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<LeaseBox>.fromOpaque(raw!).takeRetainedValue()
                usleep(100_000)
                box.lease.release()
                return nil
            }, context)
        let outcome = try leases.acquire("acme", waitingAtMost: 10)
        pthread_join(thread, nil)
        guard case .releasedByOther = outcome else {
            Issue.record("expected releasedByOther, got \(outcome)")
            return
        }
        guard case .held(let again) = try leases.acquire("acme", waitingAtMost: 0) else {
            Issue.record("the lease stayed taken after the waiter woke")
            return
        }
        again.release()
    }

    @Test("a credential name that is not a plain file name gets a hex lock file inside the directory")
    func oddNames() {
        #expect(leases.path(for: "acme") == dir.path + "/vault.leases/acme.lock")
        #expect(leases.path(for: "../x") == dir.path + "/vault.leases/x-2e2e2f78.lock")
    }

    final class LeaseBox: @unchecked Sendable {
        let lease: any RefreshLease
        init(_ lease: any RefreshLease) { self.lease = lease }
    }
}
