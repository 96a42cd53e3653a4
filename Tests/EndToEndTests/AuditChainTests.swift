import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: the audit trail's hash chain")
struct AuditChainTests {
    /// A logged-in sandbox after `launches` runs of /bin/true: import, refresh, then launch and exit
    /// per run (--no-exec: tokenrun waits and records the exit).
    func trail(launches: Int, environment: [String: String] = [:]) throws -> EndToEnd {
        let e = try EndToEnd()
        try e.login()
        for _ in 0..<launches {
            let result = e.box.run(["--no-exec", "-p", "demo", "--", "/bin/true"], environment: environment)
            #expect(result.status == 0, "\(result.all)")
        }
        return e
    }

    func lines(_ e: EndToEnd) -> [String] {
        e.audit.split(separator: "\n").map(String.init)
    }

    func write(_ e: EndToEnd, _ text: String) {
        e.box.write("state/tokenrun/audit.jsonl", text)
    }

    @Test("launches leave a chain that log --verify reports intact, with exit 0")
    func intact() throws {
        let e = try trail(launches: 3)
        #expect(lines(e).count == 8)
        let result = e.box.run(["log", "--verify"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout == "intact: 8 records in 1 file (audit.jsonl), seq 1–8\n")
        let json = e.box.run(["log", "--verify", "--json"])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"intact\" : true"))
        #expect(json.stdout.contains("\"last_seq\" : 8"))
        let help = e.box.run(["log", "--help"])
        #expect(help.stdout.contains("--verify"))
        let usage = e.box.run(["log", "--verify", "-n", "3"])
        #expect(usage.status == 64)
    }

    @Test("an edited field, a deleted line, swapped lines and appended hand-made lines each exit 1 naming the record")
    func tampering() throws {
        let e = try trail(launches: 3)
        let original = lines(e)
        // seq 1 import, 2 refresh, then launch/exit pairs: 3 4, 5 6, 7 8.
        #expect(original[3].contains("\"event\":\"exit\""))
        #expect(original[3].contains("\"status\":0"))
        func check(_ edited: [String], _ expected: String, _ comment: Comment) {
            write(e, edited.map { $0 + "\n" }.joined())
            let result = e.box.run(["log", "--verify"])
            #expect(result.status == 1, comment)
            #expect(result.stdout.hasPrefix(expected), "\(comment): \(result.all)")
        }

        var edited = original
        edited[3] = edited[3].replacing("\"status\":0", with: "\"status\":1")
        check(edited, "broken: audit.jsonl line 4, seq 4 (", "changed field")
        #expect(e.box.run(["log", "--verify"]).stdout.contains(" exit): altered: "))

        edited = original
        edited.remove(at: 4)
        check(edited, "broken: audit.jsonl line 5, seq 6 (", "deleted line")
        #expect(e.box.run(["log", "--verify"]).stdout.contains("removed: seq 5 is missing"))

        edited = original
        edited.swapAt(4, 5)
        check(edited, "broken: audit.jsonl line 5, seq 6 (", "swapped lines")
        #expect(e.box.run(["log", "--verify"]).stdout.contains("): reordered: "))

        let plain = #"{"event":"launch","pid":1,"profiles":["demo"],"time":"2030-01-01T00:00:00Z","uid":0}"#
        check(original + [plain], "broken: audit.jsonl line 9 (2030-01-01T00:00:00Z launch): unchained: ", "hand-made line")

        // A forger who copies the format, the key id and the chain fields, but not the key.
        let keyID = String(original[7].split(separator: "\"key_id\":\"")[1].prefix(16))
        let lastMAC = String(original[7].suffix(66).prefix(64))
        let forged =
            #"{"event":"launch","key_id":"\#(keyID)","pid":1,"prev":"\#(lastMAC)","profiles":["demo"],"seq":9,"#
            + #""time":"2030-01-01T00:00:00Z","uid":0,"mac":"\#(String(repeating: "ab", count: 32))"}"#
        check(original + [forged], "broken: audit.jsonl line 9, seq 9 (2030-01-01T00:00:00Z launch): altered: ", "forged line")
        let json = e.box.run(["log", "--verify", "--json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"kind\" : \"altered\""))
        #expect(json.stdout.contains("\"line\" : 9"))

        write(e, original.map { $0 + "\n" }.joined())
        #expect(e.box.run(["log", "--verify"]).status == 0, "restored")
    }

    @Test("a last line cut short by a crash is reported as torn, not as tampering, and later launches chain past it")
    func tornLastLine() throws {
        let e = try trail(launches: 1)
        write(e, String(e.audit.dropLast(30)))
        var result = e.box.run(["log", "--verify"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("intact: 3 records"))
        #expect(result.stdout.contains("note: the last line (audit.jsonl line 4) is torn"))
        #expect(e.box.run(["--no-exec", "-p", "demo", "--", "/bin/true"]).status == 0)
        result = e.box.run(["log", "--verify"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("intact: 5 records"))
        #expect(result.stdout.contains("note: audit.jsonl line 4 is torn"))
    }

    @Test("20 concurrent launches append 40 records to one unbroken chain")
    func concurrentLaunches() throws {
        let e = try trail(launches: 0)
        let running = (0..<20).map { _ in e.box.start(["--no-exec", "-p", "demo", "--", "/bin/true"]) }
        let results = running.map { $0.wait() }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.filter { $0.status != 0 }.map(\.all))")
        let result = e.box.run(["log", "--verify"])
        #expect(result.status == 0, "\(result.all)")
        // import, one refresh (single flight), and a launch and an exit per run.
        #expect(result.stdout == "intact: 42 records in 1 file (audit.jsonl), seq 1–42\n")
        #expect(lines(e).count == 42)
    }

    @Test("with a tiny TOKENRUN_AUDIT_MAX_BYTES the trail rotates, and verify and log read across the files")
    func rotation() throws {
        let e = try trail(launches: 6, environment: ["TOKENRUN_AUDIT_MAX_BYTES": "1500"])
        let rotated = directoryNames(e.box.root + "/state/tokenrun").filter { $0.hasPrefix("audit.jsonl.") }
        #expect(rotated.count >= 2, "\(rotated)")
        let result = e.box.run(["log", "--verify"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.hasPrefix("intact: 14 records in \(rotated.count + 1) files (audit.jsonl.\(rotated.count), "))
        #expect(result.stdout.contains("seq 1–14"))
        let log = e.box.run(["log", "-n", "50"])
        let shown = log.stdout.split(separator: "\n")
        #expect(shown.count == 14)
        #expect(shown.first?.contains("  import  demo") == true, "the oldest record, from the oldest file")
    }
}
