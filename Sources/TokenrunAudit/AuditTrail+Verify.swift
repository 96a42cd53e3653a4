// Verifying the chain, for `tokenrun log --verify`. Every file present is read,
// oldest first, from a snapshot taken under a shared lock (so no rotation runs
// while the files are opened, and appends made later are not looked at); the
// lock is released before reading, so launches are not held up. Rules:
// - Unchained records (no chain fields) may only precede the first chained
//   one: written before chaining. Records under another vault key may only
//   precede the first one under this key, which must record the change
//   (`key_changed_from`, covered by its MAC).
// - Each chained record under this key must carry a valid MAC, the next seq
//   and, as prev, the MAC of the record before it.
// - A line a crash cut short (torn: starts like a record, is not one) is
//   reported but is not tampering: the append after it chained to the record
//   before it.
import TokenrunSupport
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

extension AuditTrail {
    /// Checks every record of every file present against `key`, stopping at the first problem.
    public func verify(key: AuditKey) throws -> AuditVerification {
        let files = try openSnapshot()
        defer { for file in files { close(file.fd) } }
        var result = AuditVerification()
        result.files = files.map(\.name)
        var entries: [Entry] = []
        for (index, file) in files.enumerated() {
            try Self.forEachLine(file) { line, number, terminated in
                let location = AuditVerification.Location(file: file.name, line: number)
                if let entry = Self.entry(line, location: location, file: index, terminated: terminated, key: key) {
                    entries.append(entry)
                }
            }
        }
        let walk = Walk(entries: entries, files: files, base: path.baseName, generations: generations, key: key)
        walk.run(into: &result)
        if result.problem == nil, files.last.map({ $0.generation != 0 }) == true {
            result.problem = .init(
                failure: .missingFile, location: nil, seq: nil, time: nil, event: nil,
                explanation: "\(path.baseName) is missing while rotated files are present: the newest records are gone")
        }
        return result
    }

    /// One open file of the snapshot.
    struct SnapshotFile {
        let name: String
        /// 0 for the current file, n for audit.jsonl.n.
        let generation: Int
        let fd: Int32
        let size: Int64
    }

    /// Opens every file, oldest first, while holding a shared lock on the current one.
    private func openSnapshot() throws -> [SnapshotFile] {
        try SecretFilePolicy.check(path, what: "the audit trail")
        let current = try openLocked(flags: O_RDONLY, lock: LOCK_SH)
        var files: [SnapshotFile] = []
        do {
            for n in rotatedGenerations().reversed() {
                let file = generation(n)
                try SecretFilePolicy.check(file, what: "the audit trail")
                let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                if fd < 0 {
                    if errno == ENOENT { continue }
                    throw TokenrunError.fileSystem(SystemCallError(operation: "open", path: file, errno: errno), what: "the audit trail")
                }
                files.append(SnapshotFile(name: file.baseName, generation: n, fd: fd, size: Self.size(fd)))
            }
        } catch {
            for file in files { close(file.fd) }
            if let current { close(current) }
            throw error
        }
        if let current {
            files.append(SnapshotFile(name: path.baseName, generation: 0, fd: current, size: Self.size(current)))
            flock(current, LOCK_UN)
        }
        return files
    }

    private static func size(_ fd: Int32) -> Int64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Calls `body` with each line of `file` up to its snapshot size, its number, and whether a newline ends it.
    private static func forEachLine(
        _ file: SnapshotFile, _ body: (ArraySlice<UInt8>, Int, Bool) throws -> Void
    ) throws {
        var offset: Int64 = 0
        var pending: [UInt8] = []
        var number = 0
        let chunkSize = 256 << 10
        while offset < file.size {
            let count = Int(min(Int64(chunkSize), file.size - offset))
            var chunk = [UInt8](repeating: 0, count: count)
            let n = chunk.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, count, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TokenrunError.fileSystem(SystemCallError(operation: "read", path: file.name, errno: errno), what: "the audit trail")
            }
            if n == 0 { break }
            offset += Int64(n)
            pending += chunk[0..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                number += 1
                try body(pending[start..<newline], number, true)
                start = newline + 1
            }
            pending.removeSubrange(0..<start)
        }
        if !pending.isEmpty {
            number += 1
            try body(pending[...], number, false)
        }
    }

    /// One line, classified.
    struct Entry {
        enum Kind {
            /// Cut short by a crash: starts like a record and is not one.
            case torn
            /// Not a record of tokenrun's.
            case foreign
            /// A record written before chaining.
            case unchained
            /// Chain fields present but incomplete or not in the form tokenrun writes.
            case malformed
            /// A chained record; `macValid` is nil when it was made under another key.
            case chained(macValid: Bool?)
        }
        let kind: Kind
        let location: AuditVerification.Location
        let file: Int
        let link: AuditChain.Link?
        let terminated: Bool
    }

    private static func entry(
        _ line: ArraySlice<UInt8>, location: AuditVerification.Location, file: Int, terminated: Bool, key: AuditKey
    ) -> Entry? {
        if line.isEmpty { return nil }
        guard let link = AuditChain.decode(line) else {
            let kind: Entry.Kind = line.first == UInt8(ascii: "{") ? .torn : .foreign
            return Entry(kind: kind, location: location, file: file, link: nil, terminated: terminated)
        }
        func make(_ kind: Entry.Kind) -> Entry { Entry(kind: kind, location: location, file: file, link: link, terminated: terminated) }
        guard link.isRecord else { return make(.foreign) }
        if link.isUnchained { return make(.unchained) }
        guard link.head != nil, let prev = link.prev, Hex.decode(prev)?.count == 32, let split = AuditChain.split(line),
            split.mac == link.mac
        else { return make(.malformed) }
        guard link.keyID == key.id else { return make(.chained(macValid: nil)) }
        return make(.chained(macValid: AuditChain.macIsValid(line, prev: prev, key: key)))
    }

    /// The walk over the entries in order, checking each against the record before it.
    private struct Walk {
        let entries: [Entry]
        let files: [SnapshotFile]
        /// The current file's name; rotated ones add ".n".
        let base: String
        let generations: Int
        let key: AuditKey
        /// The index of each seq's first chained record, to tell a reordering from a removal.
        let firstIndex: [UInt64: Int]

        init(entries: [Entry], files: [SnapshotFile], base: String, generations: Int, key: AuditKey) {
            self.entries = entries
            self.files = files
            self.base = base
            self.generations = generations
            self.key = key
            var firstIndex: [UInt64: Int] = [:]
            for (index, entry) in entries.enumerated() {
                if case .chained = entry.kind, let seq = entry.link?.seq, firstIndex[seq] == nil { firstIndex[seq] = index }
            }
            self.firstIndex = firstIndex
        }

        func run(into result: inout AuditVerification) {
            var last: AuditChain.Head?
            var thisKeySeen = false
            var file = -1
            for (index, entry) in entries.enumerated() {
                if entry.file != file {
                    if file >= 0, let missing = missingBetween(file, entry.file) {
                        let verb = missing.contains(",") ? "are" : "is"
                        result.problem = problem(
                            .missingFile, entry,
                            "\(missing) \(verb) missing: the records between \(files[file].name) and this file are gone")
                        return
                    }
                    file = entry.file
                }
                switch entry.kind {
                case .torn:
                    result.torn.append(entry.location)
                    if index == entries.count - 1 && !entry.terminated && entry.file == files.count - 1 { result.tornAtEnd = true }
                case .foreign:
                    result.problem = problem(.malformed, entry, "it is not an audit record (added by hand?)")
                    return
                case .malformed:
                    result.problem = problem(
                        .malformed, entry, "its chain fields are incomplete or not as tokenrun writes them (edited by hand?)")
                    return
                case .unchained:
                    if last != nil {
                        result.problem = problem(
                            .unchained, entry,
                            "it has no MAC but follows chained records: added by hand, or written by a tokenrun too old to chain")
                        return
                    }
                    result.unchained += 1
                    result.records += 1
                case .chained(let macValid):
                    let head = entry.link!.head!
                    if let (failure, explanation) = fault(entry, at: index, macValid: macValid, after: last, thisKeySeen: thisKeySeen) {
                        result.problem = problem(failure, entry, explanation)
                        return
                    }
                    if last == nil && (entry.link?.prev != AuditChain.genesis || head.seq != 1) { result.rotatedAway = true }
                    if macValid == nil { result.otherKey += 1 } else { thisKeySeen = true }
                    if result.firstSeq == nil { result.firstSeq = head.seq }
                    result.lastSeq = head.seq
                    result.records += 1
                    last = head
                }
            }
        }

        /// What is wrong with the chained record `entry`, which follows `last`; nil when nothing is.
        private func fault(
            _ entry: Entry, at index: Int, macValid: Bool?, after last: AuditChain.Head?, thisKeySeen: Bool
        ) -> (AuditVerification.Failure, String)? {
            let link = entry.link!
            let head = link.head!
            if let macValid {
                if !macValid {
                    return (.altered, "its MAC does not match its contents: edited, or forged without the vault key")
                }
                if let last, last.keyID != key.id, link.keyChangedFrom != last.keyID {
                    return (
                        .otherKey,
                        "the records before it claim another vault key (\(last.keyID)), but it records no change of key: they were relabelled"
                    )
                }
            } else if thisKeySeen {
                return (
                    .otherKey,
                    "it was chained under another vault key (\(head.keyID)) after records under this one: forged, or written through another vault"
                )
            }
            guard let last else {
                if link.prev == AuditChain.genesis && head.seq == 1 { return nil }
                // Past the kept generations, the oldest file starting mid-chain is what rotation leaves.
                if files[entry.file].generation >= generations && entry.file == 0 { return nil }
                return (
                    .missingStart,
                    "the chain starts at seq \(head.seq), but the records before it are in no file, and fewer files than are kept are present"
                )
            }
            if head.seq > last.seq + 1 {
                if let later = firstIndex[last.seq + 1], later > index {
                    return (.reordered, "seq \(head.seq) comes before seq \(last.seq + 1), which is further on")
                }
                let gone = head.seq == last.seq + 2 ? "seq \(last.seq + 1) is" : "seq \(last.seq + 1)–\(head.seq - 1) are"
                return (.removed, "\(gone) missing before it, and in no file")
            }
            if head.seq <= last.seq {
                return (.reordered, "seq \(head.seq) follows seq \(last.seq): duplicated or moved")
            }
            if link.prev != last.mac {
                return (
                    .inserted,
                    "its prev is not the MAC of seq \(last.seq) before it: spliced in from another chain, or the record before it was replaced"
                )
            }
            return nil
        }

        /// The names of the rotated files missing between file `older` and file `newer`, or nil.
        func missingBetween(_ older: Int, _ newer: Int) -> String? {
            let from = files[older].generation
            let to = files[newer].generation
            guard from - to > 1 else { return nil }
            return ((to + 1)..<from).reversed().map { "\(base).\($0)" }.joined(separator: ", ")
        }

        func problem(_ failure: AuditVerification.Failure, _ entry: Entry, _ explanation: String) -> AuditVerification.Problem {
            .init(
                failure: failure, location: entry.location, seq: entry.link?.seq, time: entry.link?.time, event: entry.link?.event,
                explanation: explanation)
        }
    }
}
