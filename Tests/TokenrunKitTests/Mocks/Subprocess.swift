import Dispatch
import Testing
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs helper programs for tests, independently of the code under test.
enum Subprocess {
    /// Spawns `arguments[0]` (an absolute path) with exactly `environment`,
    /// collects its stdout and waits for it (a plain blocking waitpid).
    static func run(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: [UInt8]) {
        var pipeFDs: [Int32] = [0, 0]
        // Close-on-exec, so children spawned concurrently by other tests do not hold the write end.
        guard pipe(&pipeFDs) == 0 else { throw SystemCallError(operation: "pipe", path: "", errno: errno) }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard spawned == 0 else { throw SystemCallError(operation: "posix_spawn", path: arguments[0], errno: spawned) }

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, 4096) }
            if n > 0 {
                output += buffer[0..<n]
            } else if n == 0 || errno != EINTR {
                break
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, output)
    }

    /// Runs `ChildProcess.run` the way the tokenrun executable does: with the
    /// relayed signals and SIGCHLD blocked in the calling thread.
    ///
    /// In the test process other threads leave SIGCHLD unblocked, so the
    /// kernel may hand the child's SIGCHLD to one of them, where it is
    /// discarded, and `sigwaitinfo` would wait forever. Nudging the calling
    /// thread with its own SIGCHLD every few milliseconds makes the wait
    /// re-check the child, as the real process's blocked SIGCHLD would.
    static func runChild(_ arguments: [String], environment: [String: String]) throws -> ChildExit {
        ChildProcess.blockSignals()
        let target = pthread_self()
        let queue = DispatchQueue(label: "tokenrun-tests.sigchld-nudge")
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(2), repeating: .milliseconds(2))
        timer.setEventHandler { _ = pthread_kill(target, SIGCHLD) }
        timer.resume()
        defer {
            timer.cancel()
            queue.sync {}
        }
        return try ChildProcess.run(arguments, environment: environment)
    }
}
