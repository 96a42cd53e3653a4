// A listening AF_UNIX stream socket at a path, for serve-credentials: created
// 0600 (a stale socket at the path is replaced, anything else refused), and
// each connection handed out with its peer's address (systemd names the unit
// and credential there).
import TokenrunSupport
#if canImport(Glibc)
    import Glibc
#endif

/// A listening AF_UNIX stream socket at a path.
public struct UnixListener {
    public let fd: Int32

    public init(path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw TokenrunError.usage("\(path) exists and is not a socket; choose another --socket path")
            }
            unlink(path)
        }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "socket", path: path, errno: errno), what: "the socket")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let error = SystemCallError(operation: "bind", path: path, errno: errno)
            close(fd)
            throw TokenrunError.fileSystem(error, what: "the socket")
        }
    }

    /// The next connection and its peer's address bytes.
    public func accept() -> (Int32, [UInt8])? {
        let client = Glibc.accept(fd, nil, nil)
        guard client >= 0 else { return nil }
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(client, $0, &length) }
        }
        let pathLength = named == 0 ? max(0, Int(length) - MemoryLayout<sa_family_t>.size) : 0
        let bytes = withUnsafeBytes(of: &address.sun_path) { Array($0.prefix(pathLength)) }
        return (client, bytes)
    }

    /// Sends all of `bytes` on a connection.
    public static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw TokenrunError.fileSystem(SystemCallError(operation: "send", path: "socket", errno: errno), what: "the answer")
            }
            sent += n
        }
    }
}
