// The append-only audit trail: JSON lines at $XDG_STATE_HOME/tokenrun/audit.jsonl,
// mode 0600, each append one write under an exclusive flock. Reading the last
// N records reads the file backwards, so it costs what it shows, not the
// file's age.
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Appends to and reads the audit trail.
public struct AuditTrail: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Appends `record` as one line.
    public func append(_ record: AuditRecord) throws {
        let line = record.jsonLine()
        do {
            try FileSystem.makeDirectories(path.directoryName)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the audit directory")
        }
        try SecretFilePolicy.check(path, what: "the audit trail")
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 { throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: path, errno: errno), what: "the audit trail") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        do {
            try FileSystem.writeAll(fd, line, path)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the audit trail")
        }
    }

    /// The last `count` records (oldest first), optionally only those naming `profile`.
    public func last(_ count: Int, profile: String? = nil) throws -> [AuditRecord] {
        guard count > 0 else { return [] }
        try SecretFilePolicy.check(path, what: "the audit trail")
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: path, errno: errno), what: "the audit trail")
        }
        defer { close(fd) }
        var position = lseek(fd, 0, SEEK_END)
        var carry: [UInt8] = []
        var found: [AuditRecord] = []
        let decoder = JSONDecoder()
        func take(_ line: ArraySlice<UInt8>) {
            guard !line.isEmpty, let record = try? decoder.decode(AuditRecord.self, from: Data(line)) else { return }
            if let profile, !record.profiles.contains(profile) { return }
            found.append(record)
        }
        let chunkSize = 64 << 10
        while position > 0 && found.count < count {
            let size = Int(min(Int64(chunkSize), Int64(position)))
            position -= off_t(size)
            var chunk = [UInt8](repeating: 0, count: size)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, position) }
            if n <= 0 { break }
            var data = Array(chunk[0..<n]) + carry
            // Every complete line after the first newline; the head may continue in the previous chunk.
            var end = data.count
            while let newline = data[..<end].lastIndex(of: UInt8(ascii: "\n")) {
                take(data[(newline + 1)..<end])
                end = newline
                if found.count >= count { break }
            }
            carry = Array(data[..<end])
            data.removeAll()
        }
        if position == 0 && found.count < count { take(carry[...]) }
        return Array(found.prefix(count).reversed())
    }
}
