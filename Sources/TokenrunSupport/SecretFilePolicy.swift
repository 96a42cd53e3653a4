// Files holding key material or sealed secrets (the vault, key files, the audit
// key, private files for children) share one set of checks.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The checks every file holding key material or sealed secrets must pass.
public enum SecretFilePolicy {
    /// Throws unless `path` is absent or a regular file, owned by us, unreadable by others.
    public static func check(_ path: String, what: String) throws {
        let status: FileStatus?
        do {
            status = try FileSystem.status(path)
        } catch {
            throw TokenrunError.fileSystem(error, what: what)
        }
        guard let status else { return }
        if status.isSymbolicLink { throw TokenrunError.symbolicLink(path: path, what: what) }
        guard status.isRegularFile else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "read", path: path, errno: 21), what: what)
        }
        if status.ownerID != FileSystem.currentUserID {
            throw TokenrunError.wrongOwner(path: path, owner: status.ownerID, what: what)
        }
        if status.mode & 0o077 != 0 {
            throw TokenrunError.unsafePermissions(path: path, mode: status.mode, what: what)
        }
    }
}
