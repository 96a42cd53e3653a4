// What verifying the audit trail found. The library never prints: `tokenrun
// log --verify` turns this into text or JSON. Verification stops at the first
// bad record, so `problem` names one record and what is wrong with it.

/// The result of checking the audit trail's hash chain.
public struct AuditVerification: Sendable, Equatable {
    /// A line of one of the trail's files.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        /// The file's name: audit.jsonl, audit.jsonl.1, …
        public let file: String
        /// 1-based.
        public let line: Int

        public var description: String { "\(file) line \(line)" }
    }

    /// What is wrong with the first bad record.
    public enum Failure: String, Sendable, Equatable {
        /// Its MAC does not match its contents: edited, or forged without the key.
        case altered
        /// Its seq skips records that are nowhere in the trail.
        case removed
        /// Its seq is not the next one, and the next one comes later (or it repeats one).
        case reordered
        /// Its seq is the next one but its prev is not the MAC of the record before.
        case inserted
        /// A record without chain fields after chained records.
        case unchained
        /// A record under another vault key after records under this one, or a key change it does not record.
        case otherKey = "other_key"
        /// A line that is not a record, or whose chain fields are incomplete.
        case malformed
        /// A rotated file (or the current one) is gone.
        case missingFile = "missing_file"
        /// The oldest file present starts in the middle of the chain, before the oldest rotation was reached.
        case missingStart = "missing_start"
    }

    /// The first bad record and what is wrong with it.
    public struct Problem: Sendable, Equatable {
        public let failure: Failure
        /// Where; nil for a missing file.
        public let location: Location?
        public let seq: UInt64?
        public let time: String?
        public let event: String?
        /// What is wrong, in words ("its MAC does not match its contents").
        public let explanation: String
    }

    /// The files read, oldest first.
    public var files: [String] = []
    /// Records checked (before the problem, when there is one), unchained ones included.
    public var records = 0
    /// Records at the start written before the trail was chained: read, not authenticated.
    public var unchained = 0
    /// Records at the start chained under an earlier vault's key: linked, but their MACs cannot be checked.
    public var otherKey = 0
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    /// The oldest file starts in the middle of the chain because older files were rotated away.
    public var rotatedAway = false
    /// Lines a crash cut short: outside the chain, which passes over them. Not tampering.
    public var torn: [Location] = []
    /// Whether the very last line of the trail is torn.
    public var tornAtEnd = false
    public var problem: Problem?

    public var isIntact: Bool { problem == nil }
}
