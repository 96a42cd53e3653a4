import ArgumentParser
import TokenrunKit

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and validate profiles.",
        discussion: """
            Profiles are looked up in each directory of TOKENRUN_PROFILE_PATH, then \
            $XDG_CONFIG_HOME/tokenrun/profiles/NAME.toml, then the built-ins (google, \
            gmail, microsoft, outlook, github, generic).
            """,
        subcommands: [ProfilesList.self, ProfilesShow.self, ProfilesValidate.self]
    )
}

struct ProfilesList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every profile with its source and description.")

    @Flag(help: "Print JSON.")
    var json = false

    struct Row: Encodable {
        let name: String
        let source: String
        let description: String?
        let error: String?
    }

    func run() throws {
        try Diagnostics.run {
            let store = CommandContext().profiles
            var rows: [Row] = []
            for candidate in store.effectiveCandidates() {
                do {
                    let profile = try store.resolve(candidate)
                    rows.append(Row(name: candidate.name, source: candidate.sourceLabel, description: profile.description, error: nil))
                } catch let error as TokenrunError {
                    rows.append(Row(name: candidate.name, source: candidate.sourceLabel, description: nil, error: error.summary))
                }
            }
            if json {
                Output.line(try JSONOutput.encode(rows))
                return
            }
            Output.table(
                [["NAME", "SOURCE", "DESCRIPTION"]]
                    + rows.map { row in
                        [row.name, row.source, row.error.map { "INVALID: \($0)" } ?? row.description ?? ""]
                    })
        }
    }
}

struct ProfilesShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a profile after `extends` is resolved, with secrets masked."
    )

    @Argument(help: "The profile name.", completion: ProfileCompletion.kind)
    var name: String

    func run() throws {
        try Diagnostics.run {
            let profile = try CommandContext().profiles.load(name)
            Output.line(ProfileRendering.toml(profile))
        }
    }
}

struct ProfilesValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every profile, or one file, and report each problem with its line.",
        discussion: "Exits 78 if any profile is invalid."
    )

    @Argument(help: "A profile file to check instead of all profiles.")
    var file: String?

    func run() throws {
        try Diagnostics.run {
            let store = CommandContext().profiles
            if let file {
                _ = try store.load(file: file)
                Output.line("ok  \(file)")
                return
            }
            var failures = 0
            for candidate in store.allCandidates() {
                do {
                    _ = try store.resolve(candidate)
                    Output.line("ok  \(candidate.name)  (\(candidate.sourceLabel))")
                } catch let error as TokenrunError {
                    failures += 1
                    Diagnostics.report(error)
                }
            }
            if failures > 0 {
                Diagnostics.notice("\(failures) invalid profile\(failures == 1 ? "" : "s")")
                throw ExitCode(ExitStatus.configuration.rawValue)
            }
        }
    }
}
