import ArgumentParser
import TokenrunKit

extension ExportFormat: ExpressibleByArgument {}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print a profile's [env] variables for a shell or a tool.",
        discussion: """
            eval "$(tokenrun export -p gmail)"              # sh, bash, zsh
            tokenrun export -p gmail --format fish | source
            tokenrun export -p gmail --format dotenv > .env

            Also prints TOKENRUN_PROFILE and TOKENRUN_EXPIRES_AT (seconds since 1970), so a \
            prompt or script can tell when to export again. [[file]] entries are not \
            exported: their files live only as long as a `tokenrun run`.
            """
    )

    @Option(name: .shortAndLong, help: "The profile.", completion: ProfileCompletion.kind)
    var profile: String

    @Option(help: "sh, fish, dotenv or json.")
    var format: ExportFormat = .sh

    @OptionGroup var ttl: MinTTLOption

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let ready = try context.tokens.usable([profile], minTTL: ttl.seconds, force: ttl.refresh)
            for warning in ready.warnings { Diagnostics.warning(warning) }
            let injection = ready.injections[0]
            let variables = try RenderedInjection(injection, now: context.now).exported()
            if !injection.profile.files.isEmpty {
                Diagnostics.notice("[[file]] entries of \(profile) are not exported; use tokenrun run for them")
            }
            var record = AuditRecord(event: "export", profiles: [profile])
            record.detail = format.rawValue
            context.record(record, key: ready.auditKey)
            print(try format.render(variables), terminator: "")
        }
    }
}
