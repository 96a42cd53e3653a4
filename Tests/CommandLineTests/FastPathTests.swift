import ArgumentParser
import Testing

@testable import tokenrun

/// The hot paths skip ArgumentParser (FastPath.swift). Whatever command line the
/// hand parser accepts must mean the same to ArgumentParser; anything else it
/// must leave to ArgumentParser (nil).
@Suite("the fast path reads a command line as ArgumentParser does")
struct FastPathTests {
    /// Words that make up the generated command lines: the hot paths' own, values
    /// good and bad, and words the fast path must leave alone.
    static let words = [
        "-p", "--profile", "a", "b", "gmail", "--min-ttl", "90s", "10m", "1h", "soon", "--refresh", "--", "true",
        "-x", "--field", "access_token", "expires_at", "xoauth2", "nofield", "-v", "--verbose", "--json", "--help",
        "--serve", "--no-exec", "run", "get", "-", "",
    ]

    static let hotWords = ["-p", "--profile", "a", "b", "--min-ttl", "90s", "1h", "--refresh", "--no-exec", "--field", "expires_at"]

    /// A small deterministic generator (xorshift64*), so a failure comes back on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    /// Command lines: some hand-made, the rest drawn from `words` after "", "run" or "get".
    static func commandLines(count: Int) -> [[String]] {
        var lines: [[String]] = [
            ["-p", "a", "--", "true"], ["run", "-p", "a", "-p", "b", "--min-ttl", "10m", "--refresh", "--", "true", "-p", "x"],
            ["get", "-p", "a"], ["get", "--field", "expires_at", "--profile", "a"], ["-p", "a", "-p", "a", "--", "true"],
            ["get", "-p", "a", "-p", "b"], ["-p", "--", "true"], ["-p", "a", "--", "--", "-v"],
        ]
        var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
        for index in 0..<count {
            // Every other line only from the hot paths' own words, so that many are taken.
            let vocabulary = index % 2 == 0 ? words : hotWords
            var line: [String] = [["", "run", "get"].randomElement(using: &random)!].filter { !$0.isEmpty }
            for _ in 0..<Int.random(in: 0...7, using: &random) { line.append(vocabulary.randomElement(using: &random)!) }
            // Most runs end in a command, so that many lines reach the launch.
            if Bool.random(using: &random) { line += ["--", "true"] }
            lines.append(line)
        }
        return lines
    }

    @Test("every generated command line the fast path takes parses the same with ArgumentParser")
    func sameMeaning() throws {
        var runs = 0
        var gets = 0
        for line in Self.commandLines(count: 40_000) {
            guard let fast = FastPath.parse(["tokenrun"] + line) else { continue }
            let parsed: ParsableCommand
            do {
                parsed = try TokenrunCommand.parseAsRoot(line)
            } catch {
                Issue.record("the fast path takes \(line), ArgumentParser refuses it: \(TokenrunCommand.message(for: error))")
                continue
            }
            switch fast {
            case let .run(profiles, minTTL, force, exec, command):
                runs += 1
                let run = try #require(parsed as? RunCommand, "\(line) is not run to ArgumentParser")
                #expect(run.profile == profiles, "\(line)")
                #expect(run.ttl.seconds == minTTL, "\(line)")
                #expect(run.ttl.refresh == force, "\(line)")
                #expect(run.noExec == !exec, "\(line)")
                #expect(run.command == command, "\(line)")
                #expect(!run.verbose && !run.keepFresh && !run.serve, "\(line)")
            case let .get(profile, field):
                gets += 1
                let get = try #require(parsed as? GetCommand, "\(line) is not get to ArgumentParser")
                #expect(get.profile == profile, "\(line)")
                #expect(get.field == field, "\(line)")
                #expect(get.ttl.minTTL == nil && !get.ttl.refresh && !get.json && !get.verbose, "\(line)")
            }
        }
        // Enough lines reached each path for the comparison to mean something.
        #expect(runs > 100, "\(runs) run lines")
        #expect(gets > 30, "\(gets) get lines")
    }

    @Test("help, unknown flags, a bad duration and a repeated profile are left to ArgumentParser")
    func leftAlone() {
        for line in [
            ["--help"], ["-p", "a", "--help", "--", "true"], ["-p", "a", "-v", "--", "true"],
            ["-p", "a", "--min-ttl", "soon", "--", "true"], ["-p", "a", "-p", "a", "--", "true"], ["-p", "a"],
            ["get", "-p", "a", "--json"], ["get", "--field", "nofield", "-p", "a"], ["get"], ["status"],
        ] {
            #expect(FastPath.parse(["tokenrun"] + line) == nil, "\(line)")
        }
    }
}
