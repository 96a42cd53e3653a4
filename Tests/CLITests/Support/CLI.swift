// Runs the built `tokenrun` binary as a subprocess, in a new session (so it has
// no controlling terminal), with an explicit environment and standard input.
#if canImport(Glibc)
    import Glibc
#endif
import Testing

/// What one run of the binary produced.
struct CLIResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var all: String { stdout + stderr }
}

/// A scratch home with XDG directories, and a way to run tokenrun in it.
final class CLISandbox: Sendable {
    let root: String

    init() {
        var template = Array("/tmp/tokenrun-cli-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil)
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { _ = system("rm -rf '\(root)'") }

    var environment: [String: String] {
        [
            "HOME": root, "XDG_CONFIG_HOME": root + "/config", "XDG_DATA_HOME": root + "/data",
            "XDG_STATE_HOME": root + "/state", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
        ]
    }

    var vaultPath: String { root + "/data/tokenrun/vault" }
    var keyPath: String { root + "/config/tokenrun/vault.key" }
    var profileDir: String { root + "/config/tokenrun/profiles" }

    /// The tokenrun binary built beside this test bundle.
    static let binary: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(n > 0)
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let dir = String(exe[..<exe.lastIndex(of: "/")!])
        return dir + "/tokenrun"
    }()

    func write(_ relative: String, _ text: String, mode: mode_t = 0o600) {
        let path = root + "/" + relative
        _ = system("mkdir -p '\(String(path[..<path.lastIndex(of: "/")!]))'")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        chmod(path, mode)
    }

    func writeProfile(_ name: String, _ text: String) {
        write("config/tokenrun/profiles/\(name).toml", text)
    }

    func read(_ path: String) -> String? {
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
        return String(decoding: result, as: UTF8.self)
    }

    /// Runs tokenrun with `arguments`; `stdin` is fed from a file.
    func run(_ arguments: [String], stdin: String = "", environment extra: [String: String] = [:]) -> CLIResult {
        let id = "\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let inPath = root + "/.in-\(id)"
        let outPath = root + "/.out-\(id)"
        let errPath = root + "/.err-\(id)"
        let fd = open(inPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = stdin.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        defer {
            unlink(inPath)
            unlink(outPath)
            unlink(errPath)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, 0x80)  // POSIX_SPAWN_SETSID (glibc), not imported as a macro

        var env = environment
        for (key, value) in extra { env[key] = value }
        let argv = ([Self.binary] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, Self.binary, &actions, &attributes, argv, envp)
        precondition(spawned == 0, "cannot run \(Self.binary): \(spawned)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return CLIResult(status: code, stdout: read(outPath) ?? "", stderr: read(errPath) ?? "")
    }
}
