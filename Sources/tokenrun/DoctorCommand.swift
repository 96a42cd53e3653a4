import ArgumentParser
import TokenrunKit

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the vault, keys, profiles, credentials and providers, with a fix for each problem."
    )

    @Option(name: .shortAndLong, help: "Only these profiles (repeatable).")
    var profile: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Skip the checks that contact the provider.")
    var offline = false

    func run() throws {
        throw ExitCode(1)
    }
}
