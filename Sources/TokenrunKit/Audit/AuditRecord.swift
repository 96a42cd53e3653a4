// One line of the audit trail. Policy: never a token, refresh token, client
// secret, passphrase or key — only names, numbers, outcomes and error classes.
// The command is recorded by its program name alone (no arguments: they may
// hold secrets of the user's own).
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
    public var detail: String?

    public init(event: String, profiles: [String], now: Int64 = ProcessEnvironment.now()) {
        time = Timestamp.iso8601(now)
        self.event = event
        self.profiles = profiles
        pid = getpid()
        uid = getuid()
    }

    enum CodingKeys: String, CodingKey {
        case time, event, profiles, pid, uid, command, status, signal, outcome, rotated, attempts, detail
        case durationMs = "duration_ms"
        case errorClass = "error_class"
        case latencyMs = "latency_ms"
    }

    /// A one-line human form for `tokenrun log`.
    public var summary: String {
        var parts = [time, event, profiles.joined(separator: ",")]
        if let command { parts.append(command) }
        if let outcome { parts.append(outcome) }
        if let errorClass { parts.append(errorClass) }
        if let status { parts.append("status \(status)") }
        if let signal { parts.append("signal \(signal)") }
        if let rotated, rotated { parts.append("rotated") }
        if let latencyMs { parts.append("\(latencyMs) ms") }
        if let durationMs { parts.append("ran \(durationMs) ms") }
        if let detail { parts.append(detail) }
        return parts.joined(separator: "  ")
    }
}

#if canImport(Glibc)
    import Glibc
#endif
