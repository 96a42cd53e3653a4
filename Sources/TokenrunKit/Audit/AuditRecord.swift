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

    /// The record as one line of JSON, keys sorted, written by hand: appending runs
    /// on every launch, and a generic encoder costs start-up time there.
    public func jsonLine() -> [UInt8] {
        var fields: [(String, String)] = []
        func add(_ key: String, _ value: String?) { if let value { fields.append((key, JSONText.quote(value))) } }
        func add<N: BinaryInteger>(_ key: String, _ value: N?) { if let value { fields.append((key, String(value))) } }
        add("attempts", attempts)
        add("command", command)
        add("detail", detail)
        add("duration_ms", durationMs)
        add("error_class", errorClass)
        add("event", event)
        add("latency_ms", latencyMs)
        add("outcome", outcome)
        add("pid", pid)
        fields.append(("profiles", "[" + profiles.map(JSONText.quote).joined(separator: ",") + "]"))
        if let rotated { fields.append(("rotated", rotated ? "true" : "false")) }
        add("signal", signal)
        add("status", status)
        add("time", time)
        add("uid", uid)
        let text = "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
        return Array(text.utf8)
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
