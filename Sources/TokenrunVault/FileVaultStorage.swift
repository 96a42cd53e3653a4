// The local-file vault backend. Writes take an exclusive flock on `vault.lock`
// beside the vault for the read–verify–write of the file alone (never across
// a network call: a refresh holds its credential's refresh lease instead,
// FileRefreshLeases) and replace the file atomically (temporary file, fsync,
// rename, fsync the directory). Reads take no lock: the rename makes every
// open see one whole file, old or new, and every record carries its MAC. The
// vault file is never opened through a symbolic link, and a file other users
// can read, or that belongs to someone else, is refused before it is read.
//
// The temporary file has one fixed name, `vault.tmp`: only the holder of the
// exclusive lock writes it, so whoever holds that lock and finds it knows its
// writer died before the rename (SIGKILL, power loss) and removes it — every
// write does, and a read that finds one takes the lock if it is free and
// removes it, so none survives the next launch.
import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The vault as one file under `$XDG_DATA_HOME/tokenrun/`.
public struct FileVaultStorage: VaultStorage {
    public let path: String
    public var location: String { path }
    /// The lock file beside the vault.
    public var lockPath: String { path + ".lock" }
    /// The temporary file of a write, beside the vault.
    public var temporaryPath: String { path + ".tmp" }
    /// The credentials' refresh leases: lock files in `vault.leases/` beside the vault.
    public var leases: any RefreshLeases { FileRefreshLeases(directory: path + ".leases") }

    /// Vault files above this size are refused as damaged rather than read.
    public static let sizeLimit = 256 << 20

    public init(path: String) { self.path = path }

    public func load() throws -> [UInt8]? {
        guard FileSystem.exists(path.directoryName) else { return nil }
        sweepDeadWrite()
        return try readChecked()
    }

    /// Reads with pread from one open file (a later rename does not change what
    /// it reads), so a launch that needs one record of a large vault reads only
    /// the pages it looks at.
    public func withReader<T>(_ body: ((any VaultReader)?) throws -> T) throws -> T {
        guard FileSystem.exists(path.directoryName) else { return try body(nil) }
        sweepDeadWrite()
        try SecretFilePolicy.check(path, what: "the vault")
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let error = SystemCallError(operation: "open", path: path, errno: errno)
            if error.errno == ENOENT { return try body(nil) }
            throw TokenrunError.fileSystem(error, what: "the vault")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "stat", path: path, errno: errno), what: "the vault")
        }
        guard Int(info.st_size) <= Self.sizeLimit else {
            throw TokenrunError.vaultCorrupt(path: path, reason: "it is larger than \(Self.sizeLimit >> 20) MiB")
        }
        return try body(FileReader(fd: fd, count: Int(info.st_size), path: path))
    }

    /// pread over an open vault file.
    struct FileReader: VaultReader {
        let fd: Int32
        let count: Int
        let path: String

        func bytes(_ range: Range<Int>) throws -> [UInt8] {
            let range = range.clamped(to: 0..<count)
            var buffer = [UInt8](repeating: 0, count: range.count)
            var done = 0
            while done < range.count {
                let n = buffer.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 {
                    throw TokenrunError.fileSystem(SystemCallError(operation: "read", path: path, errno: errno), what: "the vault")
                }
                if n == 0 { break }
                done += n
            }
            return Array(buffer[..<done])
        }
    }

    public func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws {
        do {
            try FileSystem.makeDirectories(path.directoryName)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the vault directory")
        }
        let lock = try lockFile(.exclusive)
        defer { lock.unlock() }
        removeStrayTemporaries()
        let current = try readChecked()
        guard let next = try body(current) else { return }
        do {
            try FileSystem.replaceAtomically(path, bytes: next, temporary: temporaryPath)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the vault")
        }
    }

    /// Removes temporary files of writes that died before their rename: `vault.tmp`,
    /// and the `vault.tmp-PID-RANDOM` names of earlier versions. Only under the exclusive lock.
    private func removeStrayTemporaries() {
        let name = path.baseName + ".tmp"
        for entry in FileSystem.listDirectory(path.directoryName) where entry == name || entry.hasPrefix(name + "-") {
            FileSystem.removeFile(Paths.join(path.directoryName, entry))
        }
    }

    /// A `vault.tmp` with no writer holding the lock is the remains of a write that
    /// died before its rename: removed when the lock is free, left to its writer when not.
    private func sweepDeadWrite() {
        guard FileSystem.exists(temporaryPath), let lock = FileLock.ifFree(path: lockPath) else { return }
        defer { lock.unlock() }
        removeStrayTemporaries()
    }

    private func lockFile(_ mode: FileLock.Mode) throws -> FileLock {
        do {
            return try FileLock(path: lockPath, mode: mode)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the vault lock")
        }
    }

    /// Reads the vault after checking it is a private regular file of ours.
    private func readChecked() throws -> [UInt8]? {
        try SecretFilePolicy.check(path, what: "the vault")
        do {
            return try FileSystem.readFile(path, limit: Self.sizeLimit)
        } catch {
            if error.errno == 27 /* EFBIG */ {
                throw TokenrunError.vaultCorrupt(path: path, reason: "it is larger than \(Self.sizeLimit >> 20) MiB")
            }
            throw TokenrunError.fileSystem(error, what: "the vault")
        }
    }
}
