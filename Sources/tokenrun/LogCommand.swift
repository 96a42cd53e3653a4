import ArgumentParser
import TokenrunKit

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show the last records of the audit trail.",
        discussion:
            "The trail is $XDG_STATE_HOME/tokenrun/audit.jsonl: launches, exits, refreshes, imports, get and export. It never holds a token."
    )

    @Option(name: .short, help: "How many records.")
    var n = 20

    @Option(name: .shortAndLong, help: "Only records of this profile.")
    var profile: String?

    @Flag(help: "Print the records as JSON lines.")
    var json = false

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let records = try context.audit.last(n, profile: profile)
            for record in records {
                Output.line(json ? try JSONOutput.line(record) : record.summary)
            }
        }
    }
}
