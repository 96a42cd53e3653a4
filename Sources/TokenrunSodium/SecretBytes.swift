// Key material and plaintext secrets live here: allocated with sodium_malloc
// (guard pages, mlock'd so it is never swapped, excluded from core dumps where
// the kernel supports MADV_DONTDUMP) and zeroed by sodium_free on release.
// Copies out of this type are the caller's responsibility and should be short-lived.
import CSodium

/// Secret bytes in locked memory, zeroed when the last reference goes away.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    // Immutable after init, so sharing across threads is safe.
    private let pointer: UnsafeMutableRawPointer
    /// Number of secret bytes.
    public let count: Int

    /// Allocates `count` bytes and lets `fill` write them.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try Sodium.ensureInitialized()
        guard let p = sodium_malloc(Swift.max(count, 1)) else { throw SodiumError.allocationFailed(count) }
        pointer = p
        self.count = count
        sodium_memzero(p, Swift.max(count, 1))
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            sodium_free(p)
            throw error
        }
    }

    /// Copies `bytes` into locked memory and zeroes the source array.
    public convenience init(consuming bytes: inout [UInt8]) throws {
        let source = bytes
        try self.init(count: source.count) { buffer in
            source.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        Sodium.zero(&bytes)
    }

    /// Copies a string's UTF-8 bytes into locked memory.
    public convenience init(utf8 string: String) throws {
        var bytes = Array(string.utf8)
        try self.init(consuming: &bytes)
    }

    /// `count` random bytes.
    public static func random(count: Int) throws -> SecretBytes {
        try SecretBytes(count: count) { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
    }

    deinit { sodium_free(pointer) }

    /// Gives read access to the bytes for the duration of `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Constant-time equality.
    public func isEqual(to other: SecretBytes) -> Bool {
        count == other.count && sodium_memcmp(pointer, other.pointer, count) == 0
    }

    /// The bytes as a String when they are valid UTF-8 (a short-lived copy).
    public func utf8String() -> String? {
        withUnsafeBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) }
    }

    /// Never prints the bytes.
    public var description: String { "SecretBytes(\(count) bytes)" }
}
