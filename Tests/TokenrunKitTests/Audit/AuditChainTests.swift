import FoundationEssentials
import Testing
@testable import TokenrunAudit
@testable import TokenrunSodium
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A trail in a scratch directory, with helpers to read and edit its lines as text.
final class ChainFixture {
    let dir = TemporaryDirectory()
    let key: AuditKey
    var maxBytes: Int64 = AuditTrail.defaultMaxBytes
    var generations = AuditTrail.defaultGenerations

    init(key: AuditKey? = nil) throws {
        self.key = try key ?? AuditKey(secret: SecretBytes.random(count: 32))
    }

    var path: String { Paths(environment: dir.environment).auditTrail }
    var trail: AuditTrail { AuditTrail(path: path, maxBytes: maxBytes, generations: generations) }

    static func record(_ n: Int, event: String = "launch") -> AuditRecord {
        var record = AuditRecord(event: event, profiles: ["acme"], now: 1_700_000_000 + Int64(n))
        record.command = "true"
        record.detail = "n=\(n)"
        return record
    }

    /// Appends records `range` under `key` (default: the fixture's).
    func append(_ range: ClosedRange<Int>, key: AuditKey? = nil) throws {
        for n in range { try trail.append(Self.record(n), key: key ?? self.key) }
    }

    func verify(with key: AuditKey? = nil) throws -> AuditVerification { try trail.verify(key: key ?? self.key) }

    /// The lines of `file` (default: the current file), without their newlines.
    func lines(_ file: String? = nil) -> [String] {
        let bytes = (try? FileSystem.readFile(file ?? path)) ?? nil
        return String(decoding: bytes ?? [], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .dropLast().map { $0 }
    }

    /// Replaces the current file with `lines`, each ended by a newline.
    func write(_ lines: [String], to file: String? = nil) throws {
        try rewrite(lines.map { $0 + "\n" }.joined(), to: file)
    }

    /// Replaces the file with exactly `text`, keeping mode 0600.
    func rewrite(_ text: String, to file: String? = nil) throws {
        let target = file ?? path
        try FileSystem.makeDirectories(target.directoryName)
        unlink(target)
        try FileSystem.createExclusive(target, bytes: Array(text.utf8))
    }

    func field(_ line: String, _ name: String) -> String? {
        guard let link = try? JSONDecoder().decode(AuditRecord.self, from: Data(line.utf8)) else { return nil }
        switch name {
        case "mac": return link.mac
        case "prev": return link.prev
        case "seq": return link.seq.map { String($0) }
        default: return nil
        }
    }
}

@Suite("audit trail: hash chain")
struct AuditChainTests {
    @Test("each record links to the one before by seq and prev, and the whole trail verifies")
    func intact() throws {
        let f = try ChainFixture()
        try f.append(1...5)
        let lines = f.lines()
        #expect(lines.count == 5)
        #expect(f.field(lines[0], "prev") == AuditChain.genesis)
        for index in 1..<5 {
            #expect(f.field(lines[index], "prev") == f.field(lines[index - 1], "mac"))
            #expect(f.field(lines[index], "seq") == String(index + 1))
        }
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 5)
        #expect(result.files == ["audit.jsonl"])
        #expect(result.firstSeq == 1)
        #expect(result.lastSeq == 5)
        #expect(result.unchained == 0 && result.otherKey == 0 && result.torn.isEmpty)
    }

    @Test("a second append that finds the file as it left it chains without reading; after another writer it reads the tail")
    func appendAfterOwnRecord() throws {
        let f = try ChainFixture()
        try f.append(1...3)
        let launch = try f.trail.append(ChainFixture.record(4), key: f.key)
        #expect(launch.bytesRead > 0)
        let exit = try f.trail.append(ChainFixture.record(5, event: "exit"), key: f.key, after: launch)
        #expect(exit.bytesRead == 0, "read \(exit.bytesRead) bytes though nothing changed")
        #expect(exit.seq == 5)
        // Someone else appends: the stale hint is not trusted, and the chain stays whole.
        try f.trail.append(ChainFixture.record(6), key: f.key)
        let late = try f.trail.append(ChainFixture.record(7, event: "exit"), key: f.key, after: exit)
        #expect(late.bytesRead > 0)
        #expect(late.seq == 7)
        // A trail replaced by a file of the same size is not trusted either.
        let lines = f.lines()
        try f.write(lines)
        let replaced = try f.trail.append(ChainFixture.record(8), key: f.key, after: late)
        #expect(replaced.bytesRead > 0)
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 8)
    }

    @Test("an empty or absent trail is intact")
    func empty() throws {
        let f = try ChainFixture()
        let result = try f.verify()
        #expect(result.isIntact)
        #expect(result.records == 0)
        #expect(result.files.isEmpty)
    }

    @Test("an altered field is a MAC mismatch at that record")
    func alteredField() throws {
        let f = try ChainFixture()
        try f.append(1...5)
        var lines = f.lines()
        lines[2] = lines[2].replacing("\"detail\":\"n=3\"", with: "\"detail\":\"n=33\"")
        try f.write(lines)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .altered)
        #expect(problem.location == .init(file: "audit.jsonl", line: 3))
        #expect(problem.seq == 3)
        #expect(problem.event == "launch")
        #expect(problem.time == "2023-11-14T22:13:23Z")
    }

    @Test("a removed record is a seq gap at the record after it")
    func removed() throws {
        let f = try ChainFixture()
        try f.append(1...5)
        var lines = f.lines()
        lines.remove(at: 2)
        try f.write(lines)
        let result = try f.verify()
        let problem = try #require(result.problem)
        #expect(problem.failure == .removed)
        #expect(problem.location?.line == 3)
        #expect(problem.seq == 4)
        #expect(problem.explanation.contains("seq 3 is missing"))
        #expect(result.records == 2)
    }

    @Test("swapped records are reported as reordered, not removed")
    func reordered() throws {
        let f = try ChainFixture()
        try f.append(1...5)
        var lines = f.lines()
        lines.swapAt(1, 2)
        try f.write(lines)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .reordered)
        #expect(problem.location?.line == 2)
        #expect(problem.seq == 3)
    }

    @Test("a duplicated record is reported as reordered or duplicated")
    func duplicated() throws {
        let f = try ChainFixture()
        try f.append(1...3)
        var lines = f.lines()
        lines.insert(lines[1], at: 2)
        try f.write(lines)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .reordered)
        #expect(problem.location?.line == 3)
        #expect(problem.explanation.contains("duplicated"))
    }

    @Test("a record forged without the key — chained by seq and prev, MAC from another key — fails its MAC")
    func forgedWithoutKey() throws {
        let f = try ChainFixture()
        try f.append(1...2)
        // The forger knows the format and the key id, not the key.
        let forger = try ChainFixture()
        let lines = f.lines()
        let head = AuditChain.Head(seq: 2, mac: f.field(lines[1], "mac")!, keyID: f.key.id)
        let (forged, _) = try AuditChain.seal(ChainFixture.record(99), after: head, key: forger.key)
        let text = String(decoding: forged, as: UTF8.self).replacing(forger.key.id, with: f.key.id)
        try f.rewrite(lines.map { $0 + "\n" }.joined() + text)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .altered)
        #expect(problem.location?.line == 3)
        #expect(problem.explanation.contains("forged without the vault key"))
    }

    @Test("a forged record that keeps its own key id is a record under another key after this one's")
    func forgedOtherKey() throws {
        let f = try ChainFixture()
        try f.append(1...2)
        let forger = try ChainFixture()
        let lines = f.lines()
        let head = AuditChain.Head(seq: 2, mac: f.field(lines[1], "mac")!, keyID: f.key.id)
        let (forged, _) = try AuditChain.seal(ChainFixture.record(99), after: head, key: forger.key)
        try f.rewrite(lines.map { $0 + "\n" }.joined() + String(decoding: forged, as: UTF8.self))
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .otherKey)
        #expect(problem.location?.line == 3)
    }

    @Test("a hand-made line without chain fields after chained records is reported as unchained")
    func handMadeUnchained() throws {
        let f = try ChainFixture()
        try f.append(1...3)
        let handMade = String(decoding: ChainFixture.record(4).jsonLine(), as: UTF8.self)
        try f.rewrite(f.lines().map { $0 + "\n" }.joined() + handMade)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .unchained)
        #expect(problem.location?.line == 4)
    }

    @Test("a genuine record from another chain under the same key is caught by its prev")
    func spliced() throws {
        let f = try ChainFixture()
        let other = try ChainFixture(key: f.key)
        try f.append(1...4)
        try other.append(0...0)
        try other.append(2...4)
        var lines = f.lines()
        lines[2] = other.lines()[2]
        try f.write(lines)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .inserted)
        #expect(problem.location?.line == 3)
    }

    @Test("a line that is not a record, or a record with its MAC removed, is malformed")
    func malformed() throws {
        let f = try ChainFixture()
        try f.append(1...3)
        var lines = f.lines()
        lines.insert("hello", at: 1)
        try f.write(lines)
        #expect(try f.verify().problem?.failure == .malformed)

        lines = f.lines()
        lines.remove(at: 1)
        let stripped = lines[1].replacing(#/,"mac":"[0-9a-f]{64}"/#, with: "")
        #expect(stripped != lines[1])
        lines[1] = stripped
        try f.write(lines)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .malformed)
        #expect(problem.location?.line == 2)
    }

    @Test("cutting records off the start of the only file is reported as a missing start")
    func missingStart() throws {
        let f = try ChainFixture()
        try f.append(1...4)
        try f.write(Array(f.lines().dropFirst(2)))
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .missingStart)
        #expect(problem.seq == 3)
    }

    @Test("a truncated last line is a torn record, not tampering, and the next append chains past it")
    func tornLastLine() throws {
        let f = try ChainFixture()
        try f.append(1...4)
        let text = f.lines().map { $0 + "\n" }.joined()
        try f.rewrite(String(text.dropLast(40)))  // a crash in the middle of writing record 4
        var result = try f.verify()
        #expect(result.isIntact)
        #expect(result.records == 3)
        #expect(result.torn == [.init(file: "audit.jsonl", line: 4)])
        #expect(result.tornAtEnd)

        let appended = try f.trail.append(ChainFixture.record(5), key: f.key)
        #expect(appended.seq == 4, "chained to the last whole record")
        #expect(f.lines().count == 5, "the new record starts on a line of its own")
        result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 4)
        #expect(result.torn == [.init(file: "audit.jsonl", line: 4)])
        #expect(!result.tornAtEnd)
        #expect(try f.trail.last(2).map(\.detail) == ["n=3", "n=5"])
    }

    @Test("records from before chaining at the start are counted as unchained; the chain starts after them")
    func legacyPrefix() throws {
        let f = try ChainFixture()
        let legacy = (1...3).map { String(decoding: ChainFixture.record($0).jsonLine(), as: UTF8.self) }.joined()
        try f.rewrite(legacy)
        try f.append(4...5)
        let lines = f.lines()
        #expect(f.field(lines[3], "seq") == "1")
        #expect(f.field(lines[3], "prev") == AuditChain.genesis)
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.unchained == 3)
        #expect(result.records == 5)
        #expect(result.firstSeq == 1)
    }

    @Test("a new vault key continues the chain and says so; relabelling this key's records is caught")
    func keyChange() throws {
        let f = try ChainFixture()
        let newKey = try AuditKey(secret: SecretBytes.random(count: 32))
        try f.append(1...2)
        try f.append(3...4, key: newKey)
        let lines = f.lines()
        #expect(lines[2].contains("\"key_changed_from\":\"\(f.key.id)\""))
        #expect(f.field(lines[2], "prev") == f.field(lines[1], "mac"))

        let underNew = try f.verify(with: newKey)
        #expect(underNew.isIntact, "\(String(describing: underNew.problem))")
        #expect(underNew.otherKey == 2)
        #expect(underNew.records == 4)

        let underOld = try #require(try f.verify().problem)
        #expect(underOld.failure == .otherKey)
        #expect(underOld.location?.line == 3)

        // Only the new key: relabel its first record as another key's, to alter it unchecked.
        let g = try ChainFixture()
        try g.append(1...3)
        var relabelled = g.lines()
        relabelled[0] = relabelled[0].replacing(g.key.id, with: "0123456789abcdef")
            .replacing("n=1", with: "n=forged")
        try g.write(relabelled)
        let problem = try #require(try g.verify().problem)
        #expect(problem.failure == .otherKey)
        #expect(problem.location?.line == 2)
    }

    @Test("the audit key comes from the vault: the same for every unlock, another for another vault, never printed")
    func keyFromVault() throws {
        let one = VaultFixture()
        let two = VaultFixture()
        let first = try one.vault().auditKey()
        let again = try one.sealed.unlock(one.keys).auditKey()
        #expect(first.id == again.id)
        #expect(first.id.count == 16)
        #expect(try two.vault().auditKey().id != first.id)
        #expect(first.secret.withUnsafeBytes { Array($0) } == again.secret.withUnsafeBytes { Array($0) })
        #expect("\(first)" == "AuditKey(id \(first.id))")
    }
}

@Suite("audit trail: appends")
struct AuditAppendTests {
    @Test("an append reads only the end of the file, however large the file is")
    func tailOnly() throws {
        let f = try ChainFixture()
        f.maxBytes = 1 << 40
        try f.append(1...1)
        let line = try #require(f.lines().first)
        // A 4 GiB sparse file (no disk used) whose only record is on the last line.
        try f.rewrite("")
        let fd = open(f.path, O_WRONLY)
        #expect(ftruncate(fd, 4 << 30) == 0)
        let bytes = Array(("\n" + line + "\n").utf8)
        #expect(pwrite(fd, bytes, bytes.count, off_t(4 << 30)) == bytes.count)
        close(fd)

        let appended = try f.trail.append(ChainFixture.record(2), key: f.key)
        #expect(appended.seq == 2)
        #expect(appended.bytesRead <= 4096)
        #expect(!appended.rotated)
        #expect(try f.trail.last(1).first?.prev == f.field(line, "mac"))
    }

    @Test("after thousands of records an append still reads one small block")
    func longTrail() throws {
        let f = try ChainFixture()
        try f.append(1...2000)
        let appended = try f.trail.append(ChainFixture.record(2001), key: f.key)
        #expect(appended.seq == 2001)
        #expect(appended.bytesRead <= 4096)
    }

    @Test("threads appending at once never interleave lines or fork the chain")
    func concurrent() async throws {
        let f = try ChainFixture()
        let trail = f.trail
        let key = f.key
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for n in 0..<40 { try trail.append(ChainFixture.record(worker * 1000 + n), key: key) }
                }
            }
            try await group.waitForAll()
        }
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 320)
        #expect(result.lastSeq == 320)
    }
}

@Suite("audit trail: rotation")
struct AuditRotationTests {
    @Test("past the size limit the file rotates and the new file's first record chains to the last of the old")
    func carriesChain() throws {
        let f = try ChainFixture()
        f.maxBytes = 1200
        f.generations = 10
        var rotations = 0
        for n in 1...20 where try f.trail.append(ChainFixture.record(n), key: f.key).rotated { rotations += 1 }
        #expect(rotations >= 3)
        let rotated = f.trail.rotatedGenerations()
        #expect(rotated == Array(1...rotations))
        for n in rotated { #expect(try FileSystem.status(f.trail.generation(n))?.mode == 0o600) }
        #expect(f.lines().first.flatMap { f.field($0, "prev") } == f.lines(f.trail.generation(1)).last.flatMap { f.field($0, "mac") })
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 20)
        #expect(result.files.count == rotations + 1)
        #expect(result.files.first == "audit.jsonl.\(rotations)")
        #expect(result.files.last == "audit.jsonl")
        #expect(result.firstSeq == 1 && result.lastSeq == 20)
        #expect(try f.trail.last(20).map(\.detail) == (1...20).map { "n=\($0)" }, "log reads across the rotated files")
        #expect(try f.trail.last(3).map(\.seq) == [18, 19, 20])
    }

    @Test("beyond the kept generations the oldest are dropped, and the rest still verifies")
    func dropsOldest() throws {
        let f = try ChainFixture()
        f.maxBytes = 600
        f.generations = 3
        try f.append(1...30)
        #expect(f.trail.rotatedGenerations() == [1, 2, 3])
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.rotatedAway)
        #expect((result.firstSeq ?? 0) > 1)
        #expect(result.lastSeq == 30)
    }

    @Test("a missing rotated file is named")
    func missingGeneration() throws {
        let f = try ChainFixture()
        f.maxBytes = 600
        f.generations = 10
        try f.append(1...12)
        #expect(f.trail.rotatedGenerations().count >= 3)
        unlink(f.trail.generation(2))
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .missingFile)
        #expect(problem.explanation.contains("audit.jsonl.2"))
        #expect(problem.location?.file == "audit.jsonl.1")
    }

    @Test("the current file missing beside rotated ones is named")
    func missingCurrent() throws {
        let f = try ChainFixture()
        f.maxBytes = 600
        try f.append(1...6)
        unlink(f.path)
        let problem = try #require(try f.verify().problem)
        #expect(problem.failure == .missingFile)
        #expect(problem.explanation.contains("audit.jsonl is missing"))
    }

    @Test("threads appending at once across many rotations keep one unbroken chain")
    func concurrentRotation() async throws {
        let f = try ChainFixture()
        f.maxBytes = 2000
        f.generations = 100
        let trail = f.trail
        let key = f.key
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    for n in 0..<30 { try trail.append(ChainFixture.record(worker * 1000 + n), key: key) }
                }
            }
            try await group.waitForAll()
        }
        let result = try f.verify()
        #expect(result.isIntact, "\(String(describing: result.problem))")
        #expect(result.records == 180)
        #expect(result.files.count > 5)
    }

    @Test("TOKENRUN_AUDIT_MAX_BYTES takes bytes or K, M, G; anything else keeps the default")
    func sizeVariable() {
        #expect(AuditTrail.maxBytes("1500") == 1500)
        #expect(AuditTrail.maxBytes("64K") == 64 << 10)
        #expect(AuditTrail.maxBytes("8M") == 8 << 20)
        #expect(AuditTrail.maxBytes("1g") == 1 << 30)
        for bad in ["", "0", "-5", "12MB", "x", "9999999999999G"] { #expect(AuditTrail.maxBytes(bad) == nil, "\(bad)") }
        let paths = Paths(environment: ["HOME": "/h"])
        #expect(AuditTrail(paths: paths, environment: ["TOKENRUN_AUDIT_MAX_BYTES": "2K"]).maxBytes == 2048)
        #expect(AuditTrail(paths: paths, environment: ["TOKENRUN_AUDIT_MAX_BYTES": "lots"]).maxBytes == 8 << 20)
    }
}
