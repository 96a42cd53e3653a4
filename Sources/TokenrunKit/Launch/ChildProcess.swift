// Spawning and waiting for the child. tokenrun stays the parent so it can pass
// the exit status back, audit it and remove the private files.
//
// Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
// are blocked in tokenrun (every thread, before any is started) and collected
// with sigwaitinfo; each is relayed to the child exactly once. A signal the
// terminal driver sent (si_code SI_KERNEL: Ctrl-C, Ctrl-\, a resize, a hangup)
// already reached the child, which shares tokenrun's process group, so it is
// not relayed again. The child starts with an empty mask and default handlers.
#if canImport(Glibc)
    import Glibc
#endif

/// How the child ended.
public enum ChildExit: Sendable, Equatable {
    case exited(Int32)
    case signaled(Int32)

    /// The status a shell would report: the code, or 128+N for signal N.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// Runs one child process to completion, relaying signals.
public enum ChildProcess {
    public static let relayedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]
    static let siKernel: Int32 = 0x80

    static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// Blocks the relayed signals and SIGCHLD in the calling thread; threads started later inherit it.
    /// Call first thing in a command that will launch a child.
    public static func blockSignals() {
        var set = signalSet(relayedSignals + [SIGCHLD])
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Runs `body` with SIGINT, SIGTERM, SIGHUP and SIGQUIT held back (TerminationSignals.deferred).
    public static func withTerminationDeferred<T>(_ body: () throws -> T) rethrows -> T {
        try TerminationSignals.deferred(body)
    }

    /// A terminating signal that arrived before the child was started (SIGINT, SIGTERM, SIGHUP, SIGQUIT).
    public static func pendingTerminationSignal() -> Int32? {
        var pending = sigset_t()
        sigpending(&pending)
        return [SIGINT, SIGTERM, SIGHUP, SIGQUIT].first { sigismember(&pending, $0) == 1 }
    }

    /// Runs `body` with spawn attributes for a child of tokenrun: an empty signal
    /// mask and default handlers (tokenrun itself blocks the relayed signals).
    static func withChildAttributes<T>(_ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = signalSet(relayedSignals + [SIGCHLD, SIGPIPE])
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return try body(&attributes)
    }

    /// Spawns `arguments` (searched in PATH) with `environment`, relays signals, and waits.
    /// `tick`, when given, runs between signals (at least every 200 ms) with the child's pid.
    public static func run(_ arguments: [String], environment: [String: String], tick: ((pid_t) -> Void)? = nil) throws -> ChildExit {
        precondition(!arguments.isEmpty)
        do {
            return wait(for: try spawnForUser(arguments, environment: environment), tick: tick)
        } catch {
            if error.code == ENOENT || error.code == ENOTDIR { throw TokenrunError.commandNotFound(arguments[0]) }
            throw TokenrunError.commandNotExecutable(arguments[0], reason: error.reason)
        }
    }

    /// A failed posix_spawn: its error number.
    struct SpawnFailure: Error {
        let code: Int32
        var reason: String { String(cString: strerror(code)) }
    }

    /// Starts a program on the user's behalf (searched in PATH): the caller's umask and
    /// core limit, an empty signal mask, default handlers, and the file actions `files` adds.
    static func spawnForUser(
        _ words: [String], environment: [String: String], files: (inout posix_spawn_file_actions_t) -> Void = { _ in }
    ) throws(SpawnFailure) -> pid_t {
        let argv = words.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)
        var pid: pid_t = 0
        let spawned = ProcessHardening.withCallerSettings {
            withChildAttributes { posix_spawnp(&pid, words[0], &actions, &$0, argv, envp) }
        }
        guard spawned == 0 else { throw SpawnFailure(code: spawned) }
        return pid
    }

    /// Collects signals until the child has exited.
    static func wait(for pid: pid_t, tick: ((pid_t) -> Void)? = nil) -> ChildExit {
        var set = signalSet(relayedSignals + [SIGCHLD])
        while true {
            if let exit = reap(pid) { return exit }
            tick?(pid)
            var info = siginfo_t()
            // A timeout, so that a SIGCHLD taken by another thread cannot leave us waiting forever.
            var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            let signal = sigtimedwait(&set, &info, &timeout)
            if signal < 0 { continue }  // EINTR or EAGAIN (timeout): reap and wait again
            if signal == SIGCHLD { continue }
            if shouldRelay(siCode: info.si_code) { kill(pid, signal) }
        }
    }

    /// Whether a signal that reached tokenrun must be passed to the child. One
    /// the terminal driver generated (SI_KERNEL: Ctrl-C, Ctrl-\\, resize, hangup)
    /// went to the whole foreground process group, child included, already.
    static func shouldRelay(siCode: Int32) -> Bool {
        siCode != siKernel
    }

    /// The child's exit, if it has exited.
    static func reap(_ pid: pid_t) -> ChildExit? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let low = status & 0x7f
        if low == 0 { return .exited((status >> 8) & 0xff) }
        if low != 0x7f { return .signaled(low) }
        return nil
    }
}
