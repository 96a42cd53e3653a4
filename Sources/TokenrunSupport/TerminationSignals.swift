// Holding off the signals that end a process while a step must not be cut in
// half: between a token request and the vault write of its answer, a rotated
// refresh token exists only in this process's memory.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT, held back for a critical step.
public enum TerminationSignals {
    public static let all: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Runs `body` with the termination signals blocked in this thread; one that
    /// arrived meanwhile takes effect when the mask is restored.
    public static func deferred<T>(_ body: () throws -> T) rethrows -> T {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in all { sigaddset(&set, signal) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &set, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}
