// Refresh leases as lock files, one per credential, in a 0700 directory beside
// the vault (`vault.leases/NAME.lock`). The lease is an exclusive flock on the
// file; a waiter polls for a shared flock, which every waiter gets at once when
// the holder lets go, so a burst of launches waiting on one refresh wakes
// together. The holder writes its process id into the file for messages. Lock
// files are never removed: removing one while another process waits on it
// would let two processes hold "the" lease.
import TokenrunProfiles
import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Refresh leases as flock'ed files in one directory.
public struct FileRefreshLeases: RefreshLeases {
    public let directory: String
    /// Longest pause between two polls of a held lease.
    public var maxPollInterval = 0.02

    public init(directory: String) { self.directory = directory }

    /// The lock file of `credential`: its name when it is a profile name (a safe file name), else its hex.
    public func path(for credential: String) -> String {
        let plain = ProfileParser.isValidName(credential)
        return Paths.join(directory, (plain ? credential : "x-" + Hex.encode(Array(credential.utf8))) + ".lock")
    }

    public func acquire(_ credential: String, waitingAtMost seconds: Double) throws -> LeaseAcquisition {
        let path = path(for: credential)
        do {
            try FileSystem.makeDirectories(directory)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the refresh lease directory")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: path, errno: errno), what: "the refresh lease")
        }
        if try lock(fd, LOCK_EX, path: path) {
            let lease = FileLease(fd: fd)
            lease.recordHolder()
            return .held(lease)
        }
        let deadline = Monotonic.seconds() + seconds
        var pause = 0.001
        while true {
            if try lock(fd, LOCK_SH, path: path) {
                close(fd)
                return .releasedByOther
            }
            let left = deadline - Monotonic.seconds()
            if left <= 0 {
                let holder = Self.holder(fd)
                close(fd)
                return .timedOut(holder: holder)
            }
            Monotonic.sleep(min(pause, left))
            pause = min(pause * 2, maxPollInterval)
        }
    }

    /// Tries `operation` without blocking: true when taken, false when another holds it.
    private func lock(_ fd: Int32, _ operation: Int32, path: String) throws -> Bool {
        while flock(fd, operation | LOCK_NB) != 0 {
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return false
            default:
                let error = SystemCallError(operation: "flock", path: path, errno: errno)
                close(fd)
                throw TokenrunError.fileSystem(error, what: "the refresh lease")
            }
        }
        return true
    }

    /// The process id the holder wrote, if readable.
    static func holder(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 24)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return nil }
        let digits = buffer[..<n].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return digits.isEmpty ? nil : String(decoding: digits, as: UTF8.self)
    }

    /// A held lease: the open, exclusively locked lock file.
    final class FileLease: RefreshLease, @unchecked Sendable {
        private var fd: Int32

        init(fd: Int32) { self.fd = fd }

        /// Writes our process id, for a waiter's message.
        func recordHolder() {
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        }

        func release() {
            if fd >= 0 {
                close(fd)
                fd = -1
            }
        }

        deinit { release() }
    }
}
