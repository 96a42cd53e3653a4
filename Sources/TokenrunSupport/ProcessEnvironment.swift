#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's environment and clock, read without Foundation.
public enum ProcessEnvironment {
    /// The current environment as a dictionary (first occurrence of a name wins, as getenv does).
    public static func current() -> [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        var result: [String: String] = Dictionary(minimumCapacity: count)
        // Bytes, not Characters: splitting at "=" by grapheme cost more than the rest of the launch's set-up.
        for index in 0..<count {
            let entry = UnsafeRawPointer(environ[index]!).assumingMemoryBound(to: UInt8.self)
            let length = strlen(environ[index]!)
            let bytes = UnsafeBufferPointer(start: entry, count: length)
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<equals]), as: UTF8.self)
            if result[name] == nil {
                result[name] = String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)...]), as: UTF8.self)
            }
        }
        return result
    }

    /// Seconds since 1970.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }
}
