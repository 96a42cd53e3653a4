// Profiles and config.toml decide where a stored refresh token is sent and
// which commands run, so they are trusted the way ssh trusts ~/.ssh/config:
// the file, and the directory it is read from, must be owned by the caller or
// by root and writable by no one else. (ssh also checks every ancestor up to
// $HOME; tokenrun checks the file and its own directory, which is what lets
// another user swap it, and keeps /tmp-style ancestors out of the verdict.)
// A link is followed, and the directory holding its target is checked too.
// The file is checked on the descriptor it is read from, so a check and the
// read cannot see two different files.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads configuration files only when no other user could have written them.
public enum TrustedFile {
    /// Why a file is not trusted.
    public struct Refusal: Error, Sendable, Equatable {
        /// The file or directory that failed the check.
        public let path: String
        public let mode: UInt32
        public let owner: UInt32
        public let isDirectory: Bool
    }

    /// Whether an object with this owner and mode could only have been written by the caller (or root).
    public static func isSafe(mode: UInt32, owner: UInt32) -> Bool {
        (owner == FileSystem.currentUserID || owner == 0) && mode & 0o022 == 0
    }

    /// Reads `path` after checking it and its directory; nil when it does not exist.
    /// Throws `TokenrunError.untrustedFile` naming `what` ("the profile") for an unsafe one,
    /// and `SystemCallError` when it cannot be read (EFBIG: larger than `limit`).
    public static func read(_ path: String, limit: Int, what: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileSystem.lastError("open", path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileSystem.lastError("stat", path) }
        try check(path, mode: UInt32(info.st_mode) & 0o7777, owner: UInt32(info.st_uid), isDirectory: false, file: path, what: what)
        for directory in directories(of: path) {
            var st = stat()
            guard stat(directory, &st) == 0 else {
                throw FileSystem.lastError("stat", directory)
            }
            try check(directory, mode: UInt32(st.st_mode) & 0o7777, owner: UInt32(st.st_uid), isDirectory: true, file: path, what: what)
        }
        return try FileSystem.readAll(fd, path: path, limit: limit)
    }

    /// The directory of `path` and, when `path` is a link, the directory of the file it leads to.
    static func directories(of path: String) -> [String] {
        var result = [path.directoryName]
        var st = stat()
        if lstat(path, &st) == 0, UInt32(st.st_mode) & UInt32(S_IFMT) == UInt32(S_IFLNK),
            let resolved = realpath(path, nil)
        {
            defer { free(resolved) }
            let target = String(cString: resolved).directoryName
            if target != result[0] { result.append(target) }
        }
        return result
    }

    static func check(_ path: String, mode: UInt32, owner: UInt32, isDirectory: Bool, file: String, what: String) throws {
        guard !isSafe(mode: mode, owner: owner) else { return }
        throw TokenrunError.untrustedFile(
            file: file, what: what, Refusal(path: path, mode: mode, owner: owner, isDirectory: isDirectory))
    }
}
