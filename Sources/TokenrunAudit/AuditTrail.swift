// The append-only audit trail: JSON lines at $XDG_STATE_HOME/tokenrun/audit.jsonl,
// mode 0600, chained by AuditChain. Policy:
// - An append holds an exclusive flock on the current file from reading its
//   tail to writing the new line, and writes the line with one write(2); so
//   concurrent appenders never interleave and never fork the chain. It reads
//   only the tail of the file (AuditChain.tail), whatever the file's size.
// - The lock is on the file itself (as older versions took it); a process that
//   waited on a file that was rotated meanwhile notices (inode changed) and
//   starts over on the new one.
// - Past `maxBytes` the file is rotated under that lock: audit.jsonl.1 →
//   .2 … up to `generations` files (the oldest dropped), the current file
//   becomes .1, and a new current file holding the next record — chained to
//   the last of .1 — takes its name in one rename, so the name never points
//   at an empty or missing file.
// - Reading the last N records reads files backwards, so it costs what it
//   shows, not the trail's age.
import TokenrunSupport
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// Appends to, reads and verifies the audit trail.
public struct AuditTrail: Sendable {
    public let path: String
    /// The size past which the current file is rotated.
    public var maxBytes: Int64
    /// How many rotated files are kept (audit.jsonl.1 … .N).
    public var generations: Int

    public static let defaultMaxBytes: Int64 = 8 << 20
    public static let defaultGenerations = 5
    /// The variable that overrides `defaultMaxBytes`: bytes, or a number with K, M or G (KiB, MiB, GiB).
    public static let maxBytesVariable = "TOKENRUN_AUDIT_MAX_BYTES"

    public init(path: String, maxBytes: Int64 = defaultMaxBytes, generations: Int = defaultGenerations) {
        self.path = path
        self.maxBytes = max(1, maxBytes)
        self.generations = max(1, generations)
    }

    /// The trail at `paths`, with the size limit from TOKENRUN_AUDIT_MAX_BYTES when that is a valid size.
    public init(paths: Paths, environment: [String: String]) {
        self.init(path: paths.auditTrail, maxBytes: Self.maxBytes(environment[Self.maxBytesVariable]) ?? Self.defaultMaxBytes)
    }

    /// "1048576", "512K", "8M", "1G" as bytes; nil for anything else.
    public static func maxBytes(_ text: String?) -> Int64? {
        guard var text, !text.isEmpty else { return nil }
        var unit: Int64 = 1
        switch text.last {
        case "K", "k": unit = 1 << 10
        case "M", "m": unit = 1 << 20
        case "G", "g": unit = 1 << 30
        default: break
        }
        if unit != 1 { text.removeLast() }
        guard let number = Int64(text), number > 0, number <= Int64.max / unit else { return nil }
        return number * unit
    }

    /// The path of rotated file `n` (audit.jsonl.1 is the newest).
    public func generation(_ n: Int) -> String { "\(path).\(n)" }

    /// What an append did.
    public struct Appended: Sendable, Equatable {
        public let seq: UInt64
        public let mac: String
        /// Whether this append rotated the file first.
        public let rotated: Bool
        /// How many bytes of the existing file were read to find the record before.
        public let bytesRead: Int
        /// Where the file ended after this append, and which file it was: a later append
        /// that finds the same file ending there chains to this record without reading it.
        let head: AuditChain.Head
        let end: (device: UInt64, inode: UInt64, size: Int64, changed: timespec)?

        public static func == (a: Appended, b: Appended) -> Bool {
            a.seq == b.seq && a.mac == b.mac && a.rotated == b.rotated && a.bytesRead == b.bytesRead
        }
    }

    /// Appends `record` as one line chained to the record before it, rotating first when the file is full.
    /// `after`: what this process appended last, so that when nobody wrote since, the
    /// record before is known without reading the file (a launch writes two records).
    @discardableResult
    public func append(_ record: AuditRecord, key: AuditKey, after previous: Appended? = nil) throws -> Appended {
        do {
            try FileSystem.makeDirectories(path.directoryName)
        } catch {
            throw TokenrunError.fileSystem(error, what: "the audit directory")
        }
        try SecretFilePolicy.check(path, what: "the audit trail")
        guard let fd = try openLocked(flags: O_RDWR | O_APPEND | O_CREAT, lock: LOCK_EX) else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: path, errno: ENOENT), what: "the audit trail")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TokenrunError.fileSystem(SystemCallError(operation: "stat", path: path, errno: errno), what: "the audit trail")
        }
        let size = Int64(info.st_size)
        let tail: AuditChain.Tail
        if let previous, let end = previous.end, end.device == UInt64(info.st_dev), end.inode == UInt64(info.st_ino),
            end.size == size, end.changed.tv_sec == info.st_ctim.tv_sec, end.changed.tv_nsec == info.st_ctim.tv_nsec
        {
            tail = AuditChain.Tail(head: previous.head)
        } else {
            tail = AuditChain.tail(size: size) { offset, count in
                var bytes = [UInt8](repeating: 0, count: count)
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
                return n == count ? bytes : nil
            }
        }
        let (line, head) = try AuditChain.seal(record, after: tail.head, key: key)
        let full = size > 0 && size + Int64(line.count) > maxBytes
        let written = (tail.endsWithNewline ? [] : [UInt8(ascii: "\n")]) + line
        do {
            if full {
                try rotate(startingWith: line)
            } else {
                try FileSystem.writeAll(fd, written, path)
            }
        } catch {
            throw TokenrunError.fileSystem(error, what: "the audit trail")
        }
        var after = stat()
        let end =
            full || fstat(fd, &after) != 0
            ? nil : (device: UInt64(after.st_dev), inode: UInt64(after.st_ino), size: Int64(after.st_size), changed: after.st_ctim)
        return Appended(seq: head.seq, mac: head.mac, rotated: full, bytesRead: tail.bytesRead, head: head, end: end)
    }

    /// Opens the current file and takes `lock` on it, starting over when the file was
    /// rotated while this process waited; nil when it does not exist (and `flags` do not create it).
    func openLocked(flags: Int32, lock: Int32) throws -> Int32? {
        for _ in 0..<1000 {
            let fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                if errno == ENOENT && flags & O_CREAT == 0 { return nil }
                throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: path, errno: errno), what: "the audit trail")
            }
            while flock(fd, lock) != 0 {
                if errno == EINTR { continue }
                let error = SystemCallError(operation: "flock", path: path, errno: errno)
                close(fd)
                throw TokenrunError.fileSystem(error, what: "the audit trail")
            }
            var opened = stat()
            var named = stat()
            if fstat(fd, &opened) == 0, lstat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_dev == named.st_dev {
                return fd
            }
            close(fd)
            if flags & O_CREAT == 0 && !FileSystem.exists(path) { return nil }
        }
        throw TokenrunError.fileSystem(SystemCallError(operation: "lock", path: path, errno: EAGAIN), what: "the audit trail")
    }

    /// Under the exclusive lock on the current file: shifts the rotated files up, makes the current
    /// file audit.jsonl.1 and puts a new file holding `line` in its place.
    private func rotate(startingWith line: [UInt8]) throws(SystemCallError) {
        let fresh = "\(path).new-\(getpid())"
        unlink(fresh)
        try FileSystem.createExclusive(fresh, bytes: line)
        do throws(SystemCallError) {
            for n in stride(from: generations - 1, through: 1, by: -1) where rename(generation(n), generation(n + 1)) != 0 {
                if errno != ENOENT { throw FileSystem.lastError("rename", generation(n)) }
            }
            if generations == 1 { unlink(generation(1)) }
            // A second name first, so that `path` always names a file; a rename where hard links are refused.
            if link(path, generation(1)) != 0 && rename(path, generation(1)) != 0 {
                throw FileSystem.lastError("rename", path)
            }
            if rename(fresh, path) != 0 { throw FileSystem.lastError("rename", fresh) }
        } catch {
            unlink(fresh)
            throw error
        }
    }

    /// The numbers of the rotated files present, ascending (newest first).
    public func rotatedGenerations() -> [Int] {
        let prefix = path.baseName + "."
        return FileSystem.listDirectory(path.directoryName).compactMap { name -> Int? in
            guard name.hasPrefix(prefix) else { return nil }
            let suffix = name.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.allSatisfy(\.isASCII), suffix.allSatisfy(\.isNumber), let n = Int(suffix), n > 0 else {
                return nil
            }
            return n
        }.sorted()
    }

    /// The last `count` records (oldest first), optionally only those naming `profile`; rotated files are read when the current one holds too few.
    public func last(_ count: Int, profile: String? = nil) throws -> [AuditRecord] {
        guard count > 0 else { return [] }
        var found: [AuditRecord] = []  // newest first
        for file in [path] + rotatedGenerations().map(generation) {
            try Self.readBackwards(file, into: &found, count: count, profile: profile)
            if found.count >= count { break }
        }
        return Array(found.prefix(count).reversed())
    }

    /// Adds the records of `file`, newest first, to `found` until it holds `count`.
    private static func readBackwards(_ file: String, into found: inout [AuditRecord], count: Int, profile: String?) throws {
        try SecretFilePolicy.check(file, what: "the audit trail")
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return }
            throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: file, errno: errno), what: "the audit trail")
        }
        defer { close(fd) }
        var position = lseek(fd, 0, SEEK_END)
        var carry: [UInt8] = []
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
    }
}
