// `tokenrun doctor`: prints the library's checks. Text: one line per check
// (status, name, message), an indented `fix:` line under each warning and
// failure, then a summary line. JSON: {"checks":[…],"summary":{…}}, sorted
// keys. Exit 0 when no check failed, 1 otherwise; an error that stops doctor
// from running at all (an unknown -p profile) exits as other commands do.
import ArgumentParser
import TokenrunKit

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the vault, keys, profiles, credentials and providers, with a fix for each problem.",
        discussion: """
            Each check prints pass, warn or fail, what it found, and for a problem the one \
            command or change that fixes it. Checks: vault.present, vault.readable, \
            vault.permissions, key.source, key.permissions, profiles.valid, \
            profile.NAME.quirks, credential.NAME.state, credential.NAME.expiry, \
            credential.NAME.scopes, credential.NAME.refresh_token, endpoint.NAME.reachable, \
            endpoint.NAME.clock, files.leftovers.

            Credential checks cover the profiles given with -p, else every stored credential. \
            The endpoint checks send one harmless request (no credentials) to each of their \
            token endpoints; --offline skips them. doctor never changes anything, never \
            refreshes a token and never asks for a passphrase. Tokens are never shown.

            Exit status: 0 when no check failed (warnings allowed), 1 otherwise.
            """
    )

    @Option(name: .shortAndLong, help: "Only these profiles (repeatable).", completion: ProfileCompletion.kind)
    var profile: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Skip the checks that contact the provider.")
    var offline = false

    func validate() throws {
        try RepeatedProfiles.check(profile)
    }

    func run() throws {
        var failed = false
        try Diagnostics.run {
            let context = CommandContext()
            var names: [String] = []
            for name in profile where !names.contains(name) {
                // Only a name that exists nowhere stops doctor; an invalid file is a failed check.
                if context.profiles.candidates(named: name).isEmpty { _ = try context.profiles.load(name) }
                names.append(name)
            }
            var doctor = Doctor(environment: context.environment, profiles: context.profiles, transport: context.tokens.transport)
            doctor.requested = names
            doctor.offline = offline
            doctor.hasTerminal = Terminal.hasControllingTerminal()
            let checks = doctor.run()
            if json {
                Output.line(try JSONOutput.encode(Report(checks)))
            } else {
                printText(checks)
            }
            failed = checks.contains { $0.status == .fail }
        }
        if failed { throw ExitCode(1) }
    }

    func printText(_ checks: [DoctorCheck]) {
        let width = (checks.map(\.name.count).max() ?? 0) + 2
        for check in checks {
            let colour: Colour =
                switch check.status {
                case .pass: .green
                case .warn: .yellow
                case .fail: .red
                }
            let status = Colour.paint(check.status.rawValue, colour)
            Output.line("\(status)  \(check.name)\(String(repeating: " ", count: width - check.name.count))\(check.message)")
            if let fix = check.fix { Output.line("      fix: \(fix)") }
        }
        let summary = DoctorSummary(checks)
        Output.line(
            "\(summary.pass) passed, \(summary.warn) warning\(summary.warn == 1 ? "" : "s"), \(summary.fail) failed")
    }

    struct Report: Encodable {
        struct Check: Encodable {
            let name: String
            let status: String
            let message: String
            let fix: String?

            func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try container.encode(status, forKey: .status)
                try container.encode(message, forKey: .message)
                try container.encode(fix, forKey: .fix)  // null for a pass, so every check has the same keys
            }

            enum CodingKeys: String, CodingKey { case name, status, message, fix }
        }

        struct Summary: Encodable {
            let pass: Int
            let warn: Int
            let fail: Int
        }

        let checks: [Check]
        let summary: Summary

        init(_ checks: [DoctorCheck]) {
            self.checks = checks.map { Check(name: $0.name, status: $0.status.rawValue, message: $0.message, fix: $0.fix) }
            let counts = DoctorSummary(checks)
            summary = Summary(pass: counts.pass, warn: counts.warn, fail: counts.fail)
        }
    }
}
