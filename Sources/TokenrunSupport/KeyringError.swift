#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A keyring system call that failed.
public struct KeyringError: Error, Sendable, Equatable {
    /// The call, as keyctl(1) would name it ("add_key", "keyctl link").
    public let operation: String
    public let errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var reason: String { String(cString: strerror(errno)) }

    /// Whether the user's key quota (/proc/sys/kernel/keys/maxkeys, maxbytes) is what ran out.
    public var isQuotaExceeded: Bool { errno == EDQUOT }
}
