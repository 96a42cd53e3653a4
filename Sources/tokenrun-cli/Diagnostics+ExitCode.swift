import ArgumentParser
import TokenrunCommands
import TokenrunKit

extension Diagnostics {
    /// Runs a command body, turning a TokenrunError into its message and exit status.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TokenrunError {
            report(error)
            throw ExitCode(error.exitCode)
        }
    }
}
