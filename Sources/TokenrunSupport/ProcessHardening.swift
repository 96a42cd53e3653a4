// What tokenrun does to its own process before any secret is in memory:
// no core dumps (RLIMIT_CORE 0) and not dumpable (so no core
// file even where the limit is raised, and other processes of the same user
// cannot ptrace it or read its /proc/PID/mem); and a umask of 077, so that
// nothing it creates is readable by others whatever the caller's umask. The
// caller's umask and core limit are given back to the programs tokenrun
// starts for the user (the command, a re-auth hook, a browser) — dumpability
// resets by itself on exec — but not to the network helper, which holds a
// refresh token and hardens itself the same way.
import _TokenrunCShims

#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide protections for secrets in memory.
public enum ProcessHardening {
    /// The caller's settings, saved by `apply()` before anything else runs (single-threaded then).
    nonisolated(unsafe) private static var caller: (umask: mode_t, core: rlimit)?

    /// The umask tokenrun works under.
    public static let umaskValue: mode_t = 0o077

    /// Disables core dumps, makes the process non-dumpable and sets a private umask.
    public static func apply() {
        var core = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &core)
        let previousMask = umask(umaskValue)
        if caller == nil { caller = (previousMask, core) }
        var none = rlimit(rlim_cur: 0, rlim_max: core.rlim_max)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        _ = tokenrun_set_dumpable(0)
    }

    /// The caller's umask and core limit as `apply()` found them; nil before `apply()`.
    static var callerSettings: (umask: mode_t, core: rlimit)? { caller }

    /// The umask in force now.
    static var currentUmask: mode_t {
        let mask = umask(0o077)
        umask(mask)
        return mask
    }

    /// Whether the process is non-dumpable: then the kernel writes no core file for it at all,
    /// whatever the core limit, core_pattern or fs.suid_dumpable.
    static var isNonDumpable: Bool { tokenrun_get_dumpable() == 0 }

    /// Has the kernel kill this process when its parent dies (for the network helper).
    public static func dieWithParent() {
        _ = tokenrun_set_parent_death_signal(SIGKILL)
    }

    /// Whether the process is currently non-dumpable with no core limit.
    public static var isHardened: Bool {
        var core = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &core)
        return tokenrun_get_dumpable() == 0 && core.rlim_cur == 0
    }

    /// Runs `spawn` with the caller's umask and core limit, so the program it starts
    /// gets them; tokenrun's own are back in place when it returns.
    public static func withCallerSettings<T>(_ spawn: () throws -> T) rethrows -> T {
        guard let caller else { return try spawn() }
        umask(caller.umask)
        var core = caller.core
        setrlimit(Int32(RLIMIT_CORE.rawValue), &core)
        defer {
            umask(umaskValue)
            var none = rlimit(rlim_cur: 0, rlim_max: caller.core.rlim_max)
            setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        }
        return try spawn()
    }

    /// Undoes `apply()` (for tests that must leave their process as they found it).
    public static func undoForTesting() {
        guard let saved = caller else { return }
        umask(saved.umask)
        var core = saved.core
        setrlimit(Int32(RLIMIT_CORE.rawValue), &core)
        _ = tokenrun_set_dumpable(1)
        caller = nil
    }
}
