// Token files for [[file]]: a fresh 0700 directory per launch under
// $XDG_RUNTIME_DIR/tokenrun/ (else a 0700 tokenrun-UID directory under
// $TMPDIR), each file 0600. The directory is named run-PID-RANDOM so that a
// later launch can sweep one whose tokenrun was SIGKILLed: it is removed once
// no process with that PID exists.
import TokenrunSodium
import TokenrunSupport
#if canImport(Glibc)
    import Glibc
#endif

/// The per-launch private directory and its files.
public final class PrivateFiles {
    public let directory: String
    private var removed = false

    /// Where per-launch directories live for this environment.
    public static func base(paths: Paths) -> String {
        if let runtime = paths.runtimeDir { return Paths.join(runtime, "tokenrun") }
        return Paths.join(paths.tmpDir, "tokenrun-\(getuid())")
    }

    /// Creates a fresh directory under `base` (0700), after sweeping dead launches' leftovers.
    public init(base: String) throws {
        do {
            try FileSystem.makeDirectories(base)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the runtime directory")
        }
        try SecretFilePolicy.checkDirectory(base, what: "the runtime directory")
        Self.sweep(base)
        let suffix = (try? Sodium.randomBytes(6))?.map { String($0, radix: 16) }.joined() ?? "0"
        directory = Paths.join(base, "run-\(getpid())-\(suffix)")
        if mkdir(directory, 0o700) != 0 {
            throw TokenrunError.fileSystem(
                SystemCallError(operation: "mkdir", path: directory, errno: errno), what: "the private directory")
        }
    }

    /// Writes one file (0600) and returns its path.
    public func write(name: String, contents: String) throws -> String {
        let path = Paths.join(directory, name)
        do {
            try FileSystem.createExclusive(path, bytes: Array(contents.utf8))
        } catch {
            throw TokenrunError.fileSystem(error, what: "the token file")
        }
        return path
    }

    /// Replaces one file atomically (temporary file, rename): readers see the old or the new contents.
    public func rewrite(name: String, contents: String) throws {
        do {
            try FileSystem.replaceAtomically(Paths.join(directory, name), bytes: Array(contents.utf8))
        } catch {
            throw TokenrunError.fileSystem(error, what: "the token file")
        }
    }

    /// Removes the directory and everything in it (idempotent).
    public func remove() {
        guard !removed else { return }
        removed = true
        Self.removeTree(directory)
    }

    deinit { remove() }

    /// Removes `run-PID-*` directories whose PID no longer exists.
    public static func sweep(_ base: String) {
        for name in leftovers(base) { removeTree(Paths.join(base, name)) }
    }

    /// Names of the `run-PID-*` directories under `base` whose PID no longer exists.
    public static func leftovers(_ base: String) -> [String] {
        FileSystem.listDirectory(base).filter { name in
            guard name.hasPrefix("run-") else { return false }
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]), pid > 0 else { return false }
            return kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    /// Removes a directory of plain files (no recursion beyond one level is ever needed here).
    static func removeTree(_ path: String) {
        for name in FileSystem.listDirectory(path) { unlink(Paths.join(path, name)) }
        rmdir(path)
    }
}

extension SecretFilePolicy {
    /// Throws unless `path` is a directory of ours that others cannot enter.
    public static func checkDirectory(_ path: String, what: String) throws {
        guard let status = try? FileSystem.status(path) else { return }
        if status.isSymbolicLink { throw TokenrunError.symbolicLink(path: path, what: what) }
        if status.ownerID != FileSystem.currentUserID {
            throw TokenrunError.wrongOwner(path: path, owner: status.ownerID, what: what)
        }
        if status.mode & 0o077 != 0 { _ = chmod(path, 0o700) }
    }
}
