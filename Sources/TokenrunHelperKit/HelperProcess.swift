// The process calls of tokenrun's helpers (tokenrun-http, tokenrun-pg) beside
// their C library. Embedded Swift has no Glibc overlay: libc comes from CLibc.
import CLibc
import _TokenrunCShims

public enum HelperProcess {
    /// Standard input up to `limit` bytes (and one chunk more, so too much shows).
    public static func readStandardInput(limit: Int) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && tokenrun_errno() == EINTR { continue }
            if n <= 0 { break }
            result += chunk[0..<n]
        }
        return result
    }

    /// Standard input one line at a time (without its newline), for a helper that
    /// answers request after request; nil at end of input or past `limit` bytes in a line.
    public struct LineReader {
        var pending: [UInt8] = []
        var ended = false
        let limit: Int

        public init(limit: Int) { self.limit = limit }

        public mutating func next() -> [UInt8]? {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                if let end = pending.firstIndex(of: 0x0A) {
                    let line = Array(pending[..<end])
                    pending.removeSubrange(...end)
                    return line
                }
                if ended || pending.count > limit { return nil }
                let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && tokenrun_errno() == EINTR { continue }
                if n <= 0 {
                    ended = true
                    continue
                }
                pending += chunk[0..<n]
            }
        }

        /// Overwrites what is buffered with zeros.
        public mutating func clear() {
            HelperProcess.zero(&pending)
            pending = []
        }
    }

    /// Writes all of `bytes` to a descriptor, retrying short writes.
    public static func write(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { CLibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && tokenrun_errno() == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
    }

    public static func write(_ text: String, to descriptor: Int32) { write(Array(text.utf8), to: descriptor) }

    public static func closeStandardOutput() { _ = close(1) }

    /// Ends the process at once: no exit handlers.
    public static func exit(_ status: Int32) -> Never { _exit(status) }

    /// The command line, from /proc/self/cmdline (Embedded Swift has no CommandLine).
    public static var arguments: [String] {
        let fd = tokenrun_open_read("/proc/self/cmdline")
        guard fd >= 0 else { return [] }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && tokenrun_errno() == EINTR { continue }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    public static var standardInputIsTerminal: Bool { isatty(0) == 1 }

    public static var parent: Int32 { getppid() }

    /// Overwrites `bytes` with zeros (a refresh token was in them).
    public static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
    }

    /// A helper's own command line: `--version` and `--help` answer and exit, anything else
    /// (and a terminal on stdin: tokenrun writes there) exits 64 with `about`.
    public static func handleCommandLine(name: String, version: String, about: String) {
        let arguments = Self.arguments
        if arguments.count > 1 {
            switch arguments[1] {
            case "--version":
                write(version + "\n", to: 1)
                exit(0)
            case "--help", "-h":
                write(about + "See \(name)(1) and tokenrun(1).\n", to: 1)
                exit(0)
            default:
                write("\(name): unknown argument '\(arguments[1])'\n" + about, to: 2)
                exit(64)
            }
        }
        if standardInputIsTerminal {
            write(about, to: 2)
            exit(64)
        }
    }

    /// The helper holds a refresh token: no core dumps, not dumpable, and it dies with tokenrun.
    public static func harden() {
        var core = rlimit()
        _ = getrlimit(Int32(RLIMIT_CORE.rawValue), &core)
        var none = rlimit(rlim_cur: 0, rlim_max: core.rlim_max)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        _ = tokenrun_set_dumpable(0)
        _ = tokenrun_set_parent_death_signal(SIGKILL)
    }
}
