// Thin, checked wrappers over the POSIX calls tokenrun needs for its own files.
// Everything tokenrun creates is 0600 (files) or 0700 (directories), whatever
// the caller's umask; symbolic links are never followed for secret files.
import TokenrunSodium
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call on a path.
public struct SystemCallError: Error, Sendable, Equatable {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var reason: String { String(cString: strerror(errno)) }
}

/// File metadata tokenrun checks before trusting a secret file.
public struct FileStatus: Sendable {
    public let mode: UInt32
    public let ownerID: UInt32
    public let size: Int
    public let isRegularFile: Bool
    public let isSymbolicLink: Bool
}

/// POSIX file helpers.
public enum FileSystem {
    package static func lastError(_ operation: String, _ path: String) -> SystemCallError {
        SystemCallError(operation: operation, path: path, errno: errno)
    }

    /// `lstat`, or nil when the path does not exist.
    public static func status(_ path: String) throws(SystemCallError) -> FileStatus? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw lastError("stat", path)
        }
        let type = UInt32(st.st_mode) & UInt32(S_IFMT)
        return FileStatus(
            mode: UInt32(st.st_mode) & 0o7777, ownerID: UInt32(st.st_uid), size: Int(st.st_size),
            isRegularFile: type == UInt32(S_IFREG), isSymbolicLink: type == UInt32(S_IFLNK))
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Reads a whole file without following a final symbolic link; nil when absent.
    /// Files larger than `limit` are refused with EFBIG.
    public static func readFile(_ path: String, limit: Int = 64 << 20, followSymlinks: Bool = false)
        throws(SystemCallError) -> [UInt8]?
    {
        let flags = O_RDONLY | O_CLOEXEC | (followSymlinks ? 0 : O_NOFOLLOW)
        let fd = open(path, flags)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw lastError("open", path)
        }
        defer { close(fd) }
        return try readAll(fd, path: path, limit: limit)
    }

    /// Reads what is left of an open file; more than `limit` bytes is refused with EFBIG.
    static func readAll(_ fd: Int32, path: String, limit: Int) throws(SystemCallError) -> [UInt8] {
        // Read straight into a buffer of the file's size (one byte more, to see it grow): no
        // 64 KiB scratch buffer to zero (page faults on every launch), and no second copy
        // of a key file's bytes left behind in freed memory.
        var info = stat()
        let size = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? Int(info.st_size) : 0
        if size > limit { throw SystemCallError(operation: "read", path: path, errno: EFBIG) }
        var result = [UInt8](repeating: 0, count: size + 1)
        var count = 0
        while true {
            if count == result.count {
                if count > limit { throw SystemCallError(operation: "read", path: path, errno: EFBIG) }
                result.append(contentsOf: repeatElement(0, count: max(4096, count)))
            }
            let n = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw lastError("read", path)
            }
            if n == 0 { break }
            count += n
        }
        if count > limit { throw SystemCallError(operation: "read", path: path, errno: EFBIG) }
        result.removeSubrange(count...)
        return result
    }

    /// Creates `path` and its missing parents with mode 0700.
    public static func makeDirectories(_ path: String) throws(SystemCallError) {
        if path.isEmpty || path == "/" || path == "." { return }
        var st = stat()
        if stat(path, &st) == 0 { return }
        try makeDirectories(path.directoryName)
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw lastError("mkdir", path) }
        _ = chmod(path, 0o700)
    }

    /// Writes `bytes` to a new file that must not exist yet (O_EXCL), mode 0600, fsynced.
    public static func createExclusive(_ path: String, bytes: [UInt8]) throws(SystemCallError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { throw lastError("create", path) }
        do throws(SystemCallError) {
            _ = fchmod(fd, 0o600)
            try writeAll(fd, bytes, path)
            if fsync(fd) != 0 { throw lastError("fsync", path) }
            close(fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }

    /// Replaces `path` atomically: temporary file beside it, write, fsync, rename, fsync the directory.
    /// A reader sees either the old contents or the new, never a mixture. The rename is
    /// the moment of change: a process killed before it leaves the old file (and the
    /// temporary one), killed after it the new one. `temporary` names the temporary
    /// file (it must not exist); by default a fresh random name beside `path`.
    public static func replaceAtomically(_ path: String, bytes: [UInt8], temporary: String? = nil) throws(SystemCallError) {
        let directory = path.directoryName
        let temporary = temporary ?? randomTemporaryName(for: path)
        try createExclusive(temporary, bytes: bytes)
        if rename(temporary, path) != 0 {
            let error = lastError("rename", path)
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    static func randomTemporaryName(for path: String) -> String {
        let suffix = (try? Sodium.randomBytes(6))?.map { String($0, radix: 16) }.joined() ?? String(getpid())
        return "\(path).tmp-\(getpid())-\(suffix)"
    }

    /// Removes a file (or a symbolic link, not its target) if it is there; true when one was removed.
    @discardableResult
    public static func removeFile(_ path: String) -> Bool {
        unlink(path) == 0
    }

    /// fsyncs a directory so that a rename in it survives a crash.
    public static func syncDirectory(_ path: String) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw lastError("open", path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw lastError("fsync", path) }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw lastError("write", path)
            }
            offset += n
        }
    }

    /// Names of the entries of a directory (no "." or ".."); empty when it does not exist.
    public static func listDirectory(_ path: String) -> [String] {
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

    /// The effective user id of this process.
    public static var currentUserID: UInt32 { UInt32(geteuid()) }
}

/// An advisory lock (flock) on a lock file, released when the value is closed.
public final class FileLock {
    private var fd: Int32

    public enum Mode: Sendable { case shared, exclusive }

    /// Opens (creating, 0600) `path` and blocks until the lock is held.
    public init(path: String, mode: Mode) throws(SystemCallError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { throw FileSystem.lastError("open", path) }
        while flock(fd, mode == .shared ? LOCK_SH : LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let error = FileSystem.lastError("flock", path)
            close(fd)
            fd = -1
            throw error
        }
    }

    private init(fd: Int32) { self.fd = fd }

    /// The exclusive lock if no one holds either lock on `path` now; nil otherwise (never waits).
    public static func ifFree(path: String) -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { return nil }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            close(fd)
            return nil
        }
        return FileLock(fd: fd)
    }

    /// Releases the lock now rather than at deinit.
    public func unlock() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    deinit { unlock() }
}
