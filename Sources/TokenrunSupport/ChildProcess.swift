// Spawning and waiting for the child. tokenrun stays the parent so it can pass
// the exit status back, audit it and remove the private files.
//
// Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
// are blocked in tokenrun (every thread, before any is started) and collected
// with sigwaitinfo; each is relayed to the child exactly once. A signal the
// terminal driver sent (si_code SI_KERNEL: Ctrl-C, Ctrl-\, a resize) already
// reached the child, which shares tokenrun's process group, so it is not
// relayed again — except a hangup when tokenrun leads its session (`ssh -t
// host tokenrun …`): the kernel sends that SIGHUP to the session leader
// alone. The child starts with an empty mask and default handlers. When the
// child dies of a signal, tokenrun cleans up and dies of the same one
// (`dieOfSignal`), so that a shell sees a death by signal and stops its loop.
//
// Programs tokenrun starts for the user (the command, a re-auth hook, a
// browser) go through `spawnForUser`, which also gives them a new, empty
// session keyring of their own: a vault key cached by `tokenrun vault unlock`
// is out of their reach (the C part is tokenrun_spawn_user in _TokenrunCShims).
import _TokenrunCShims

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

    /// A terminating signal that arrived before the child was started (SIGINT, SIGTERM, SIGHUP, SIGQUIT).
    public static func pendingTerminationSignal() -> Int32? {
        var pending = sigset_t()
        sigpending(&pending)
        return [SIGINT, SIGTERM, SIGHUP, SIGQUIT].first { sigismember(&pending, $0) == 1 }
    }

    /// Starts one of tokenrun's own programs (the network helper) at `path`, with `stdin` and
    /// `stdout` as its standard input and output, an empty signal mask and default handlers
    /// (tokenrun itself blocks the relayed signals), in a process group of its own: a Ctrl-C or
    /// a group kill aimed at tokenrun must not cut a token request off halfway (the server might
    /// rotate the refresh token and tokenrun would never learn the new one). Programs started
    /// for the user go through `spawnForUser` instead. Nil when it cannot be started.
    /// One of tokenrun's own helper programs (tokenrun-http, tokenrun-pg): beside the running
    /// executable, else in an absolute PATH entry (a relative one could hand a refresh token or
    /// a database password to ./NAME), else the bare name (which then fails to start).
    package static func ownProgram(_ name: String, environment: [String: String]) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let beside = exe.directoryName + "/" + name
            if access(beside, X_OK) == 0 { return beside }
        }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return name
    }

    package static func spawnOwnProgram(_ path: String, environment: [String: String], stdin: Int32, stdout: Int32)
        -> pid_t?
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = signalSet(relayedSignals + [SIGCHLD, SIGPIPE])
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = [strdup(path), nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        return posix_spawn(&pid, path, &actions, &attributes, argv, envp) == 0 ? pid : nil
    }

    /// Spawns `arguments` (searched in PATH) with `environment`, relays signals, and waits.
    /// `tick`, when given, runs between signals (at least every 200 ms) with the child's pid.
    public static func run(_ arguments: [String], environment: [String: String], tick: ((pid_t) -> Void)? = nil) throws -> ChildExit {
        precondition(!arguments.isEmpty)
        do {
            return wait(for: try spawnForUser(arguments, environment: environment), tick: tick)
        } catch {
            throw error.launchError(arguments[0])
        }
    }

    /// Becomes `arguments` (searched in PATH) in place, as `env` and `exec` do: the same
    /// process, so the caller's signals reach the command and its status is the caller's to
    /// see, with what `spawnForUser` gives a child (default handlers, an empty mask, the
    /// caller's umask and core limit, a session keyring of its own). Returns only by throwing,
    /// when the command cannot be started (then tokenrun is still itself and reports it).
    public static func execInPlace(_ arguments: [String], environment: [String: String]) throws -> Never {
        precondition(!arguments.isEmpty)
        let defaults = relayedSignals + [SIGCHLD, SIGPIPE]
        let caller = ProcessHardening.callerSettings
        var step: Int32 = 0
        let failed = withCArrays(arguments, environment) { argv, envp in
            defaults.withUnsafeBufferPointer { signals in
                tokenrun_exec_user(
                    arguments[0], argv, envp, signals.baseAddress, Int32(signals.count),
                    UInt32(caller?.umask ?? ProcessHardening.currentUmask), caller == nil ? 0 : 1,
                    UInt64(caller?.core.rlim_cur ?? 0), UInt64(caller?.core.rlim_max ?? 0), &step)
            }
        }
        throw SpawnFailure(code: failed, step: step).launchError(arguments[0])
    }

    /// `words` and `environment` as the NULL-terminated C arrays execve takes, for `body`.
    static func withCArrays<T>(
        _ words: [String], _ environment: [String: String],
        _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>, UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T
    ) -> T {
        let argv = words.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        return body(argv, envp)
    }

    /// A program that could not be started: its error number, and the step that failed.
    package struct SpawnFailure: Error {
        let code: Int32
        var step: Int32 = Int32(TOKENRUN_SPAWN_STEP_EXEC)
        package var reason: String {
            let text = String(cString: strerror(code))
            if step == Int32(TOKENRUN_SPAWN_STEP_KEYRING) { return "cannot give it a session keyring of its own: \(text)" }
            return text
        }

        /// The error a launch reports for this failure to start `program`.
        func launchError(_ program: String) -> TokenrunError {
            if code == ENOENT || code == ENOTDIR { return .commandNotFound(program) }
            return .commandNotExecutable(program, reason: reason)
        }
    }

    /// Where a program started for the user gets one of its standard descriptors.
    package enum Stream {
        case inherit
        case null
        /// A copy of this descriptor of tokenrun's.
        case copy(Int32)

        var code: Int32 {
            switch self {
            case .inherit: Int32(TOKENRUN_STDIO_INHERIT)
            case .null: Int32(TOKENRUN_STDIO_NULL)
            case .copy(let fd): fd
            }
        }
    }

    /// Starts a program on the user's behalf (searched in PATH): the caller's umask and core
    /// limit, an empty signal mask, default handlers, a new session keyring of its own, and
    /// standard input, output and error as `stdio` says.
    package static func spawnForUser(
        _ words: [String], environment: [String: String], stdio: [Stream] = [.inherit, .inherit, .inherit]
    ) throws(SpawnFailure) -> pid_t {
        precondition(stdio.count == 3)
        let defaults = relayedSignals + [SIGCHLD, SIGPIPE]
        let caller = ProcessHardening.callerSettings
        var pid: Int32 = 0
        var step: Int32 = 0
        let codes = stdio.map(\.code)
        let failed = withCArrays(words, environment) { argv, envp in
            codes.withUnsafeBufferPointer { streams in
                defaults.withUnsafeBufferPointer { signals in
                    tokenrun_spawn_user(
                        &pid, words[0], argv, envp, streams.baseAddress, signals.baseAddress, Int32(signals.count),
                        UInt32(caller?.umask ?? ProcessHardening.currentUmask), caller == nil ? 0 : 1,
                        UInt64(caller?.core.rlim_cur ?? 0), UInt64(caller?.core.rlim_max ?? 0), &step)
                }
            }
        }
        guard failed == 0 else { throw SpawnFailure(code: failed, step: step) }
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
            if shouldRelay(signal, siCode: info.si_code, sessionLeader: leadsSession) { kill(pid, signal) }
        }
    }

    /// Whether a signal that reached tokenrun must be passed to the child. One
    /// the terminal driver generated (SI_KERNEL: Ctrl-C, Ctrl-\\, resize) went to
    /// the whole foreground process group, child included, already; but the
    /// hangup of a terminal goes to its session's leader only, so a session
    /// leader passes that SIGHUP on.
    static func shouldRelay(_ signal: Int32, siCode: Int32, sessionLeader: Bool) -> Bool {
        siCode != siKernel || (signal == SIGHUP && sessionLeader)
    }

    /// Whether tokenrun leads its session (as a command `ssh -t` or `setsid` starts does).
    static var leadsSession: Bool { getsid(0) == getpid() }

    /// Dies of `signal`, as the child did: default handler, raised, unblocked. Where the
    /// signal would dump core, only while the process is non-dumpable (ProcessHardening:
    /// then the kernel writes no core, whatever the core limit or core_pattern); else,
    /// and if the signal does not kill, exits 128+N, the same status for a shell.
    public static func dieOfSignal(_ signal: Int32) -> Never {
        let dumpsCore = [SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS, SIGXCPU, SIGXFSZ].contains(signal)
        fflush(nil)
        if signal > 0 && signal != SIGKILL && signal != SIGSTOP && (!dumpsCore || ProcessHardening.isNonDumpable) {
            Glibc.signal(signal, SIG_DFL)
            var set = signalSet([signal])
            raise(signal)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        } else if signal == SIGKILL {
            raise(SIGKILL)
        }
        exit(128 + signal)
    }

    /// The child's exit, if it has exited.
    package static func reap(_ pid: pid_t) -> ChildExit? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let low = status & 0x7f
        if low == 0 { return .exited((status >> 8) & 0xff) }
        if low != 0x7f { return .signaled(low) }
        return nil
    }
}
