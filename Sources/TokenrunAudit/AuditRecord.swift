// One line of the audit trail. Policy: never a token, refresh token, client
// secret, passphrase or key — only names, numbers, outcomes and error classes.
// The command is recorded by its program name alone (no arguments: they may
// hold secrets of the user's own). The chain fields (seq, prev, key_id,
// key_changed_from, mac) are set by AuditTrail.append, never by callers; the
// MAC covers every byte of the line before `,"mac":`, so fields a later
// version adds are covered too.
import TokenrunSupport
import FoundationEssentials

/// One event in the audit trail.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var time: String
    /// launch, exit, refresh, import, get, export.
    public var event: String
    public var profiles: [String]
    public var pid: Int32
    public var uid: UInt32
    public var command: String?
    public var status: Int32?
    public var signal: Int32?
    public var durationMs: Int?
    public var outcome: String?
    public var errorClass: String?
    public var latencyMs: Int?
    public var rotated: Bool?
    public var attempts: Int?
    /// The token endpoint's HTTP status on a refresh attempt, when it answered.
    public var httpStatus: Int?
    public var detail: String?
    /// On a launch: tokenrun replaced itself with the command (exec in place), so no exit record follows.
    public var exec: Bool?

    /// Position in the chain: 1, 2, 3 … across rotated files.
    public var seq: UInt64?
    /// The previous record's MAC (hex); 64 zeros for the first record of a chain.
    public var prev: String?
    /// The id of the audit key the MAC was made with (`AuditKey.id`).
    public var keyID: String?
    /// Set on the first record under a new vault key: the key id of the record before it.
    public var keyChangedFrom: String?
    /// Keyed BLAKE2b over `prev` and the line up to this field (hex). Always the last field of the line.
    public var mac: String?

    public init(event: String, profiles: [String], now: Int64 = ProcessEnvironment.now()) {
        time = Timestamp.iso8601(now)
        self.event = event
        self.profiles = profiles
        pid = getpid()
        uid = getuid()
    }

    /// The line's JSON keys: for the hand-written writer (`jsonBody`), the chain's reader
    /// (`AuditChain.decode`) and `tokenrun log`'s JSONDecoder alike.
    enum CodingKeys: String, CodingKey {
        case time, event, profiles, pid, uid, command, status, signal, outcome, rotated, attempts, detail, exec
        case seq, prev, mac
        case keyID = "key_id"
        case keyChangedFrom = "key_changed_from"
        case durationMs = "duration_ms"
        case errorClass = "error_class"
        case httpStatus = "http_status"
        case latencyMs = "latency_ms"
    }

    /// The record as one line of JSON: the body's keys sorted, then `mac` last when set.
    /// Written by hand: appending runs on every launch, and a generic encoder costs
    /// start-up time there.
    public func jsonLine() -> [UInt8] {
        var line = jsonBody()
        if let mac {
            line.removeLast()  // "}"
            line += Array(",\"\(CodingKeys.mac.stringValue)\":".utf8) + Array(Quoting.json(mac).utf8) + [UInt8(ascii: "}")]
        }
        return line + [UInt8(ascii: "\n")]
    }

    /// Every field but `mac`, as one JSON object with sorted keys: what the MAC covers.
    func jsonBody() -> [UInt8] {
        // In the order of the keys' JSON names, which is the order of the line.
        var fields: [(CodingKeys, String)] = []
        func add(_ key: CodingKeys, _ value: String?) { if let value { fields.append((key, Quoting.json(value))) } }
        func add<N: BinaryInteger>(_ key: CodingKeys, _ value: N?) { if let value { fields.append((key, String(value))) } }
        add(.attempts, attempts)
        add(.command, command)
        add(.detail, detail)
        add(.durationMs, durationMs)
        add(.errorClass, errorClass)
        add(.event, event)
        if let exec { fields.append((.exec, exec ? "true" : "false")) }
        add(.httpStatus, httpStatus)
        add(.keyChangedFrom, keyChangedFrom)
        add(.keyID, keyID)
        add(.latencyMs, latencyMs)
        add(.outcome, outcome)
        add(.pid, pid)
        add(.prev, prev)
        fields.append((.profiles, "[" + Text.join(profiles.map(Quoting.json), ",") + "]"))
        if let rotated { fields.append((.rotated, rotated ? "true" : "false")) }
        add(.seq, seq)
        add(.signal, signal)
        add(.status, status)
        add(.time, time)
        add(.uid, uid)
        return Array(("{" + Text.join(fields.map { "\"\($0.0.stringValue)\":\($0.1)" }, ",") + "}").utf8)
    }

    /// A one-line human form for `tokenrun log`.
    public var summary: String {
        var parts = [time, event, profiles.joined(separator: ",")]
        if let command { parts.append(command) }
        if let outcome { parts.append(outcome) }
        if let errorClass { parts.append(errorClass) }
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        if let status { parts.append("status \(status)") }
        if let signal { parts.append("signal \(signal)") }
        if let rotated, rotated { parts.append("rotated") }
        if let exec, exec { parts.append("exec (no exit record)") }
        if let latencyMs { parts.append("\(latencyMs) ms") }
        if let durationMs { parts.append("ran \(durationMs) ms") }
        if let detail { parts.append(detail) }
        return parts.joined(separator: "  ")
    }
}

#if canImport(Glibc)
    import Glibc
#endif
