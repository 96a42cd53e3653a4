import FoundationEssentials
import Testing
@testable import TokenrunAudit
@testable import TokenrunRefresh
@testable import TokenrunSodium
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("audit trail")
struct AuditTrailTests {
    let dir = TemporaryDirectory()
    var path: String { Paths(environment: dir.environment).auditTrail }
    var trail: AuditTrail { AuditTrail(path: path) }
    static let key = try! AuditKey(secret: SecretBytes.random(count: 32))

    static func record(_ n: Int, profiles: [String] = ["acme"], event: String = "launch") -> AuditRecord {
        var record = AuditRecord(event: event, profiles: profiles, now: 1_700_000_000 + Int64(n))
        record.detail = "n=\(n)"
        return record
    }

    /// One JSON line per record, encoded as `AuditTrail.append` does.
    static func line(_ record: AuditRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(record)) + [UInt8(ascii: "\n")]
    }

    @Test("last(n) returns the newest n records, oldest first")
    func appendAndLast() throws {
        for n in 1...5 { try trail.append(Self.record(n), key: Self.key) }
        #expect(try trail.last(2).map(\.detail) == ["n=4", "n=5"])
        #expect(try trail.last(5).map(\.detail) == ["n=1", "n=2", "n=3", "n=4", "n=5"])
        #expect(try trail.last(100).map(\.detail) == ["n=1", "n=2", "n=3", "n=4", "n=5"])
        #expect(try trail.last(1).map(\.withoutChain) == [Self.record(5)])
        #expect(try trail.last(5).map(\.seq) == [1, 2, 3, 4, 5])
        #expect(try trail.last(0).isEmpty)
    }

    @Test("a record reads back whole")
    func roundTrip() throws {
        var record = AuditRecord(event: "exit", profiles: ["gmail", "work"], now: 1_700_000_000)
        record.command = "python3"
        record.status = 143
        record.signal = 15
        record.durationMs = 1234
        record.outcome = "ok"
        record.errorClass = "transient"
        record.latencyMs = 87
        record.rotated = true
        record.attempts = 2
        record.detail = "path/with/slashes \"quoted\" ünï"
        try trail.append(record, key: Self.key)
        let read = try #require(try trail.last(1).first)
        #expect(read.withoutChain == record)
        #expect(read.seq == 1)
        #expect(read.prev == String(repeating: "0", count: 64))
        #expect(read.keyID == Self.key.id)
        #expect(read.mac?.count == 64)
        #expect(record.time == "2023-11-14T22:13:20Z")
        let text = String(decoding: try #require(try FileSystem.readFile(path)), as: UTF8.self)
        #expect(text.contains(#""duration_ms":1234"#))
        #expect(text.contains(#""error_class":"transient""#))
        #expect(text.contains(#""latency_ms":87"#))
        #expect(text.contains("path/with/slashes"))
        #expect(text.filter { $0 == "\n" }.count == 1)
        #expect(text.hasSuffix("\"mac\":\"\(read.mac!)\"}\n"), "the MAC is the last field")
    }

    @Test("without a trail, last(n) is empty")
    func missingFile() throws {
        #expect(try trail.last(10).isEmpty)
    }

    @Test("the profile filter keeps records naming that profile")
    func profileFilter() throws {
        try trail.append(Self.record(1, profiles: ["a"]), key: Self.key)
        try trail.append(Self.record(2, profiles: ["b"]), key: Self.key)
        try trail.append(Self.record(3, profiles: ["a", "b"]), key: Self.key)
        try trail.append(Self.record(4, profiles: ["b"]), key: Self.key)
        try trail.append(Self.record(5, profiles: ["ab"]), key: Self.key)
        #expect(try trail.last(2, profile: "a").map(\.detail) == ["n=1", "n=3"])
        #expect(try trail.last(10, profile: "b").map(\.detail) == ["n=2", "n=3", "n=4"])
        #expect(try trail.last(1, profile: "b").map(\.detail) == ["n=4"])
        #expect(try trail.last(10, profile: "c").isEmpty)
    }

    @Test("the trail is created 0600 in a 0700 directory, and appends keep earlier lines")
    func fileMode() throws {
        try trail.append(Self.record(1), key: Self.key)
        #expect(try FileSystem.status(path)?.mode == 0o600)
        #expect(try FileSystem.status(path.directoryName)?.mode == 0o700)
        try trail.append(Self.record(2), key: Self.key)
        let lines = String(decoding: try #require(try FileSystem.readFile(path)), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
    }

    @Test("a trail readable by others is refused")
    func unsafeMode() throws {
        try trail.append(Self.record(1), key: Self.key)
        chmod(path, 0o644)
        let appendError = #expect(throws: TokenrunError.self) { try trail.append(Self.record(2), key: Self.key) }
        guard case .unsafePermissions? = appendError else {
            Issue.record("expected unsafePermissions, got \(String(describing: appendError))")
            return
        }
        #expect(throws: TokenrunError.self) { try trail.last(1) }
    }

    @Test("a long trail: last(n) reads from the end, across chunks, skipping corrupt and partial lines")
    func longTrail() throws {
        var bytes: [UInt8] = []
        for n in 0..<5000 {
            if n == 4998 { bytes += Array("{\"time\":\"2023-11-14T22:13:20Z\",\"event\":\n".utf8) }  // a torn line
            if n == 2500 { bytes += Array("not json at all\n\n".utf8) }
            bytes += try Self.line(Self.record(n, profiles: n % 2 == 0 ? ["even"] : ["odd"]))
        }
        bytes += Array("{\"time\":\"2023-11-14T22:1".utf8)  // a partial last line, as a crash mid-write leaves it
        #expect(bytes.count > 6 * (64 << 10), "the file spans many read chunks")
        try dir.write("state/tokenrun/audit.jsonl", bytes: bytes)

        #expect(try trail.last(3).map(\.detail) == ["n=4997", "n=4998", "n=4999"])
        let thousand = try trail.last(1000)
        #expect(thousand.map(\.detail) == (4000..<5000).map { "n=\($0)" })
        #expect(try trail.last(6000).map(\.detail) == (0..<5000).map { "n=\($0)" })
        #expect(try trail.last(3, profile: "odd").map(\.detail) == ["n=4995", "n=4997", "n=4999"])
        #expect(try trail.last(2, profile: "even").map(\.detail) == ["n=4996", "n=4998"])
    }

    @Test("a record longer than a read chunk is read whole")
    func longRecord() throws {
        var big = Self.record(2)
        big.detail = String(repeating: "x", count: 150_000)
        try trail.append(Self.record(1), key: Self.key)
        try trail.append(big, key: Self.key)
        try trail.append(Self.record(3), key: Self.key)
        #expect(try trail.last(3).map(\.detail) == ["n=1", big.detail, "n=3"])
        #expect(try trail.last(2).map(\.detail) == [big.detail, "n=3"])
    }

    @Test("a first line without a newline after it is read too")
    func singleLineWithoutNewline() throws {
        var bytes = try Self.line(Self.record(7))
        bytes.removeLast()
        try dir.write("state/tokenrun/audit.jsonl", bytes: bytes)
        #expect(try trail.last(5).map(\.detail) == ["n=7"])
    }
}

@Suite("audit trail: no secrets")
struct AuditSecretTests {
    let world = VaultFixture()
    static let secrets = ["at-SECRET-old", "rt-SECRET-old", "at-SECRET-new", "rt-SECRET-new", "cs-SECRET-vault", "cs-SECRET-profile"]

    func auditText() throws -> String {
        String(decoding: try FileSystem.readFile(world.paths.auditTrail) ?? [], as: UTF8.self)
    }

    func service(_ transport: ScriptedTransport) -> (TokenService, TransportFactory) {
        let factory = TransportFactory(transport)
        var service = TokenService(profiles: world.profiles, vault: world.sealed, keys: world.keys, audit: world.audit)
        service.transport = factory.make
        return (service, factory)
    }

    func setUp(expired: Bool = true) throws {
        try world.profile("acme", oauth: "client_secret = \"cs-SECRET-profile\"")
        var credential = VaultFixture.credential(
            "acme", accessToken: "at-SECRET-old", refreshToken: "rt-SECRET-old", clientSecret: "cs-SECRET-vault", age: 4000)
        if !expired {
            // TokenService reads the real clock.
            credential.issuedAt = ProcessEnvironment.now()
            credential.expiresAt = ProcessEnvironment.now() + 3600
        }
        try world.store(credential)
    }

    @Test("refresh records written through TokenService hold outcomes and classes, never a token or secret")
    func refreshRecords() throws {
        try setUp()
        // Retry-After: 0, so the real sleep of TokenService's refresher returns at once.
        let (service, factory) = service(
            ScriptedTransport([.status(503, retryAfter: "0"), .token("at-SECRET-new", refreshToken: "rt-SECRET-new")]))
        let result = try service.usable(["acme"], minTTL: nil)
        #expect(result.injections.first?.credential.accessToken?.value == "at-SECRET-new")
        #expect(factory.transport.requestCount == 2)

        let records = try world.audit.last(10)
        #expect(records.map(\.event) == ["refresh", "refresh"])
        #expect(records.map(\.outcome) == ["failed", "ok"])
        #expect(records.map(\.errorClass) == ["transient", nil])
        #expect(records.map(\.rotated) == [false, true])
        #expect(records.map(\.attempts) == [1, 2])
        #expect(records.allSatisfy { $0.profiles == ["acme"] })
        let text = try auditText()
        for secret in Self.secrets { #expect(!text.contains(secret), "\(secret) is in the audit trail") }
        #expect(try FileSystem.status(world.paths.auditTrail)?.mode == 0o600)
    }

    @Test("a dead refresh token and the failed launch after it leave no secret in the trail")
    func failureRecords() throws {
        try setUp()
        let (service, _) = service(ScriptedTransport([.oauthError("invalid_grant", description: "Bad Request")]))
        let error = #expect(throws: TokenrunError.self) { try service.usable(["acme"], minTTL: nil) }
        let unwrapped = try #require(error)
        // The exit record the run command writes for an error, built the same way.
        var failed = AuditRecord(event: "exit", profiles: ["acme"])
        failed.command = "python3"
        failed.status = unwrapped.exitCode
        failed.detail = unwrapped.summary
        try world.audit.append(failed, key: try world.vault().auditKey())

        let records = try world.audit.last(10)
        #expect(records.map(\.event) == ["refresh", "exit"])
        #expect(records.first?.errorClass == "invalid_grant")
        #expect(records.last?.status == 77)
        let text = try auditText()
        for secret in Self.secrets { #expect(!text.contains(secret), "\(secret) is in the audit trail") }
    }

    @Test("a fresh token through TokenService: no transport, no refresh record")
    func warmPath() throws {
        try setUp(expired: false)
        let (service, factory) = service(ScriptedTransport([]))
        let result = try service.usable(["acme"], minTTL: nil)
        #expect(result.outcomes["acme"] == .fresh)
        #expect(factory.callCount == 0)
        #expect(try world.audit.last(10).isEmpty)
    }
}

extension AuditRecord {
    /// The record without the fields `AuditTrail.append` adds.
    var withoutChain: AuditRecord {
        var record = self
        record.seq = nil
        record.prev = nil
        record.keyID = nil
        record.keyChangedFrom = nil
        record.mac = nil
        return record
    }
}

@Suite("audit record JSON")
struct AuditRecordJSONTests {
    @Test("the hand-written line decodes back to the same record, escapes included")
    func roundTrip() throws {
        var record = AuditRecord(event: "exit", profiles: ["a", "b\"c"], now: 1_795_000_000)
        record.command = "weird\\name\n\u{1}\t/é"
        record.status = 143
        record.signal = 15
        record.durationMs = 12
        record.rotated = false
        record.errorClass = "transient"
        let line = record.jsonLine()
        #expect(line.last == UInt8(ascii: "\n"))
        let decoded = try JSONDecoder().decode(AuditRecord.self, from: Data(line.dropLast()))
        #expect(decoded == record)
        #expect(String(decoding: line, as: UTF8.self).contains(#""signal":15"#))
    }

    @Test("a record with every field set reads back whole through the writer, log's decoder and the chain's reader, under the trail's keys")
    func everyField() throws {
        var record = AuditRecord(event: "refresh", profiles: ["a", "b"], now: 1_795_000_000)
        record.command = "sync"
        record.status = 1
        record.signal = 15
        record.durationMs = 12
        record.outcome = "transient"
        record.errorClass = "http_5xx"
        record.latencyMs = 340
        record.rotated = true
        record.attempts = 3
        record.httpStatus = 503
        record.detail = "the provider answered 503"
        record.exec = true
        record.seq = 7
        record.prev = String(repeating: "ab", count: 32)
        record.keyID = "kid-1"
        record.keyChangedFrom = "kid-0"
        record.mac = String(repeating: "cd", count: 32)
        let children = Mirror(reflecting: record).children
        for child in children {
            let value = Mirror(reflecting: child.value)
            #expect(!(value.displayStyle == .optional && value.children.isEmpty), "\(child.label ?? "?") is nil")
        }
        let line = record.jsonLine()
        let object = try JSONObjectReader(try JSONReader.parse(line.dropLast()))
        #expect(
            Set(object.members.keys) == [
                "time", "event", "profiles", "pid", "uid", "command", "status", "signal", "duration_ms", "outcome", "error_class",
                "latency_ms", "rotated", "attempts", "http_status", "detail", "exec", "seq", "prev", "key_id", "key_changed_from", "mac",
            ])
        #expect(object.members.count == children.count, "a property of AuditRecord is not written, or a key is no property")
        #expect(try JSONDecoder().decode(AuditRecord.self, from: Data(line.dropLast())) == record)
        let link = try #require(AuditChain.decode(line.dropLast()))
        #expect(link.time == record.time && link.event == record.event)
        #expect(link.seq == record.seq && link.prev == record.prev && link.mac == record.mac)
        #expect(link.keyID == record.keyID && link.keyChangedFrom == record.keyChangedFrom)
        #expect(AuditChain.split(line.dropLast())?.mac == record.mac)
    }
}
