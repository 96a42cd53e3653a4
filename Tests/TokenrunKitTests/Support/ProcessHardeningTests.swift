import Testing
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("process hardening", .serialized)
struct ProcessHardeningTests {
    @Test("apply makes the process non-dumpable with no core limit and umask 077; spawns get the caller's settings back")
    func applyAndRestore() {
        let callerMask = umask(0o022)
        umask(callerMask)
        #expect(!ProcessHardening.isHardened)
        ProcessHardening.apply()
        defer { ProcessHardening.undoForTesting() }
        #expect(ProcessHardening.isHardened)
        let current = umask(0o077)
        #expect(current == 0o077)
        let inside = ProcessHardening.withCallerSettings { () -> (mode_t, rlim_t) in
            let mask = umask(0)
            umask(mask)
            var core = rlimit()
            getrlimit(Int32(RLIMIT_CORE.rawValue), &core)
            return (mask, core.rlim_cur)
        }
        #expect(inside.0 == callerMask)
        #expect(ProcessHardening.isHardened, "back to hardened after the spawn")
        let after = umask(0o077)
        #expect(after == 0o077)
    }
}
