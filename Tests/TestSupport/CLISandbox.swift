// Runs the built `tokenrun` binary as a subprocess, in a new session (so it has
// no controlling terminal), with an explicit environment and standard input.
#if canImport(Glibc)
    import Glibc
#endif

/// What one run of the binary produced.
public struct CLIResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// The signal the process died of (then `status` is 128+N), or nil when it exited.
    public var signal: Int32? = nil
    public var all: String { stdout + stderr }
}

/// A scratch home with XDG directories, and a way to run tokenrun in it.
public final class CLISandbox: Sendable {
    public let root: String

    public init() {
        var template = Array("/tmp/tokenrun-cli-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil)
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        mkdir(root + "/runtime", 0o700)
    }

    deinit { _ = system("rm -rf '\(root)'") }

    public var environment: [String: String] {
        [
            "HOME": root, "XDG_CONFIG_HOME": root + "/config", "XDG_DATA_HOME": root + "/data",
            "XDG_STATE_HOME": root + "/state", "XDG_RUNTIME_DIR": root + "/runtime", "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
        ]
    }

    public var vaultPath: String { root + "/data/tokenrun/vault" }
    public var keyPath: String { root + "/config/tokenrun/vault.key" }
    public var profileDir: String { root + "/config/tokenrun/profiles" }
    public var auditPath: String { root + "/state/tokenrun/audit.jsonl" }
    public var runtimeDir: String { root + "/runtime/tokenrun" }

    /// The tokenrun binary built beside this test bundle.
    public static let binary: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(n > 0)
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let dir = String(exe[..<exe.lastIndex(of: "/")!])
        return dir + "/tokenrun"
    }()

    public func write(_ relative: String, _ text: String, mode: mode_t = 0o600) {
        let path = root + "/" + relative
        Self.makeDirectories(String(path[..<path.lastIndex(of: "/")!]))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        chmod(path, mode)
    }

    /// Writes `bytes` (which may hold NUL or invalid UTF-8) to `path`, replacing it.
    public func write(path: String, bytes: [UInt8], mode: mode_t = 0o600) {
        Self.makeDirectories(String(path[..<path.lastIndex(of: "/")!]))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            precondition(n > 0)
            offset += n
        }
        close(fd)
        chmod(path, mode)
    }

    /// Creates `path` and its missing parents with mode 0700 whatever the umask: tokenrun
    /// refuses a profile in a directory that others can write, as ssh does.
    public static func makeDirectories(_ path: String) {
        var st = stat()
        if path.isEmpty || stat(path, &st) == 0 { return }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { makeDirectories(String(path[..<slash])) }
        if mkdir(path, 0o700) == 0 { chmod(path, 0o700) }
    }

    public func writeProfile(_ name: String, _ text: String) {
        write("config/tokenrun/profiles/\(name).toml", text)
    }

    public func read(_ path: String) -> String? { readText(path) }

    /// Runs tokenrun with `arguments`; `stdin` is fed from a file.
    public func run(
        _ arguments: [String], stdin: String = "", environment extra: [String: String] = [:], program: String? = nil
    ) -> CLIResult {
        start(arguments, stdin: stdin, environment: extra, program: program).wait()
    }

    /// Starts tokenrun (or, with `program`, another program) without waiting for it.
    public func start(
        _ arguments: [String], stdin: String = "", environment extra: [String: String] = [:], program: String? = nil
    ) -> RunningProcess {
        let id = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let inPath = root + "/.in-\(id)"
        let fd = open(inPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = stdin.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        var env = environment
        for (key, value) in extra { env[key] = value }
        return RunningProcess(
            executable: program ?? Self.binary, arguments: arguments, environment: env, stdinPath: inPath,
            outPath: root + "/.out-\(id)", errPath: root + "/.err-\(id)")
    }
}

/// A process started by a test, with its output going to files.
public final class RunningProcess: @unchecked Sendable {
    public let pid: pid_t
    let stdinPath: String
    let outPath: String
    let errPath: String

    init(executable: String, arguments: [String], environment: [String: String], stdinPath: String, outPath: String, errPath: String) {
        self.stdinPath = stdinPath
        self.outPath = outPath
        self.errPath = errPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session (no controlling terminal), an empty signal mask and default handlers.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGMASK))  // 0x80: POSIX_SPAWN_SETSID (glibc)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        precondition(spawned == 0, "cannot run \(executable): \(spawned)")
        self.pid = pid
    }

    /// Sends a signal to the process.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the exit; the status is the code, or 128+N for signal N.
    public func wait() -> CLIResult {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return finish(status)
    }

    /// The result if the process has exited (it is then reaped), else nil at once.
    public func poll() -> CLIResult? {
        var status: Int32 = 0
        var reaped = waitpid(pid, &status, WNOHANG)
        while reaped < 0 && errno == EINTR { reaped = waitpid(pid, &status, WNOHANG) }
        return reaped == pid ? finish(status) : nil
    }

    private func finish(_ status: Int32) -> CLIResult {
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        defer {
            unlink(stdinPath)
            unlink(outPath)
            unlink(errPath)
        }
        return CLIResult(
            status: code, stdout: readText(outPath) ?? "", stderr: readText(errPath) ?? "",
            signal: (status & 0x7f) == 0 ? nil : status & 0x7f)
    }

    /// The output so far.
    public var stdoutSoFar: String { readText(outPath) ?? "" }

    /// The error output so far.
    public var stderrSoFar: String { readText(errPath) ?? "" }

    /// Waits up to `seconds` for `condition` on the error output so far; returns the output.
    public func waitForStderr(seconds: Double = 20, _ condition: (String) -> Bool) -> String? {
        for _ in 0..<Int(seconds * 20) {
            let text = stderrSoFar
            if condition(text) { return text }
            usleep(50_000)
        }
        return nil
    }
}

/// The contents of a file as text, or nil.
public func readText(_ path: String) -> String? {
    readBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// The contents of a file, byte for byte, or nil.
public func readBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = Glibc.read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        result += chunk[0..<n]
    }
    return result
}

/// The names in a directory (without . and ..), sorted; empty when it cannot be read.
public func directoryNames(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}
