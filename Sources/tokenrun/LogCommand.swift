// `tokenrun log`: the last records of the audit trail, and `--verify`, which
// checks its hash chain. Verify output: one summary line — `intact: …` or
// `broken: FILE line N, seq S (TIME EVENT): what is wrong` — then `note:` lines
// for what was read but could not be authenticated (records from before
// chaining or under an earlier vault key) and for lines a crash cut short.
// Exit 0 when intact, 1 when broken.
import ArgumentParser
import TokenrunKit

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the last records of the audit trail, or verify its chain (--verify).",
        discussion: """
            The trail is $XDG_STATE_HOME/tokenrun/audit.jsonl: logins, imports, revokes, \
            refreshes, launches, exits, get and export. It never holds a token.

            Each record is chained to the one before it by a MAC made with a key derived \
            from the vault's, so --verify (which unlocks the vault like other commands) \
            finds the first record that was altered, removed, reordered or inserted, and \
            names its file, line, seq, time and event. A line cut short by a crash is \
            reported apart from tampering. Exit status with --verify: 0 intact, 1 broken.

            Past 8 MiB (TOKENRUN_AUDIT_MAX_BYTES: bytes, or a number with K, M or G) the \
            file is rotated to audit.jsonl.1 (5 rotated files are kept) and the chain \
            carries on in the new file; both reading and verifying cover the rotated files.
            """
    )

    @Option(name: .short, help: "How many records (default 20).")
    var n: Int?

    @Option(name: .shortAndLong, help: "Only records of this profile.", completion: ProfileCompletion.kind)
    var profile: String?

    @Flag(help: "Print the records (or the verification) as JSON.")
    var json = false

    @Flag(help: "Check the chain of every record in every file; exit 1 at the first bad one.")
    var verify = false

    @Flag(help: "List the fleet's refreshes from the shared vault instead: host, time, outcome, rotation.")
    var fleet = false

    func validate() throws {
        if verify && (n != nil || profile != nil) {
            throw ValidationError("--verify checks the whole trail; leave out -n and -p")
        }
        if verify && fleet { throw ValidationError("--fleet lists the shared vault's refreshes; --verify checks this host's trail") }
        if let n, n < 0 { throw ValidationError("-n: expected a count of records, found \(n)") }
    }

    func run() throws {
        var broken = false
        try Diagnostics.run {
            let context = CommandContext()
            if verify {
                let vault: UnlockedVault
                do {
                    vault = try context.vault.unlock(context.keys)
                } catch TokenrunError.vaultNotFound(let path) {
                    throw TokenrunError.auditUnverifiable(vault: path)
                }
                let key = try vault.auditKey()
                let result = try context.audit.verify(key: key)
                if json {
                    Output.line(try JSONOutput.encode(VerifyReport(result)))
                } else {
                    Self.printText(result)
                }
                broken = !result.isIntact
                return
            }
            if fleet {
                let shared = try context.connectSharedVault(for: "tokenrun log --fleet")
                let refreshes = try shared.refreshes(profile: profile, limit: n ?? 20)
                if json {
                    for refresh in refreshes { Output.line(try JSONOutput.line(FleetRefreshLine(refresh))) }
                } else if refreshes.isEmpty {
                    Output.line("no refreshes in the shared vault \(shared.location) yet")
                } else {
                    var rows = [["TIME", "HOST", "PROFILE", "OUTCOME", "ROTATED"]]
                    for refresh in refreshes {
                        rows.append([refresh.at, refresh.host, refresh.profile, refresh.outcome, refresh.rotated ? "yes" : "no"])
                    }
                    Output.table(rows) { _, _, cell in cell }
                }
                return
            }
            let records = try context.audit.last(n ?? 20, profile: profile)
            for record in records {
                Output.line(json ? try JSONOutput.line(record) : record.summary)
            }
        }
        if broken { throw ExitCode(1) }
    }

    static func printText(_ result: AuditVerification) {
        let files = "\(result.files.count) file\(result.files.count == 1 ? "" : "s")"
        let records = "\(result.records) record\(result.records == 1 ? "" : "s")"
        if let problem = result.problem {
            var place = problem.location.map { "\($0)" } ?? "the trail"
            if let seq = problem.seq { place += ", seq \(seq)" }
            if let time = problem.time, let event = problem.event { place += " (\(time) \(event))" }
            Output.line("broken: \(place): \(problem.failure.rawValue.replacingUnderscores): \(problem.explanation)")
            Output.line("checked: \(records) before it, in \(files) (\(result.files.joined(separator: ", ")))")
        } else if result.files.isEmpty {
            Output.line("intact: 0 records in 0 files (no audit trail yet)")
        } else {
            var line = "intact: \(records) in \(files) (\(result.files.joined(separator: ", ")))"
            if let first = result.firstSeq, let last = result.lastSeq {
                line += first == last ? ", seq \(first)" : ", seq \(first)–\(last)"
            }
            Output.line(line)
        }
        if result.unchained > 0 {
            Output.line(
                "note: the first \(result.unchained) record\(result.unchained == 1 ? " is" : "s are") unchained (written before chaining): read, not authenticated"
            )
        }
        if result.otherKey > 0 {
            Output.line(
                result.otherKey == 1
                    ? "note: 1 record was chained under an earlier vault's key: its place in the chain is checked, its MAC cannot be"
                    : "note: \(result.otherKey) records were chained under an earlier vault's key: their order and links are checked, their MACs cannot be"
            )
        }
        if result.rotatedAway, let first = result.firstSeq {
            Output.line("note: the oldest file starts at seq \(first); the records before it were rotated away")
        }
        for location in result.torn {
            let last = result.tornAtEnd && location == result.torn.last
            Output.line(
                last
                    ? "note: the last line (\(location)) is torn: cut short by a crash while it was written, not tampering"
                    : "note: \(location) is torn (cut short by a crash while it was written); not tampering: the chain passes over it")
        }
    }

    /// The JSON form of a verification.
    struct VerifyReport: Encodable {
        struct Location: Encodable {
            let file: String
            let line: Int
        }
        struct Problem: Encodable {
            let kind: String
            let file: OrNull<String>
            let line: OrNull<Int>
            let seq: OrNull<UInt64>
            let time: OrNull<String>
            let event: OrNull<String>
            let explanation: String
        }
        let intact: Bool
        let records: Int
        let files: [String]
        let first_seq: OrNull<UInt64>
        let last_seq: OrNull<UInt64>
        let unchained: Int
        let other_key: Int
        let rotated_away: Bool
        let torn: [Location]
        let torn_at_end: Bool
        let problem: OrNull<Problem>

        init(_ result: AuditVerification) {
            intact = result.isIntact
            records = result.records
            files = result.files
            first_seq = OrNull(result.firstSeq)
            last_seq = OrNull(result.lastSeq)
            unchained = result.unchained
            other_key = result.otherKey
            rotated_away = result.rotatedAway
            torn = result.torn.map { Location(file: $0.file, line: $0.line) }
            torn_at_end = result.tornAtEnd
            problem = OrNull(
                result.problem.map {
                    Problem(
                        kind: $0.failure.rawValue, file: OrNull($0.location?.file), line: OrNull($0.location?.line), seq: OrNull($0.seq),
                        time: OrNull($0.time), event: OrNull($0.event), explanation: $0.explanation)
                })
        }
    }
}

extension String {
    /// "other_key" → "other key".
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}

/// One fleet refresh, as `log --fleet --json` prints it.
struct FleetRefreshLine: Encodable {
    let at: String
    let host: String
    let profile: String
    let outcome: String
    let rotated: Bool

    init(_ refresh: FleetRefresh) {
        at = refresh.at
        host = refresh.host
        profile = refresh.profile
        outcome = refresh.outcome
        rotated = refresh.rotated
    }
}
