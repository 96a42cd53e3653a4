import ArgumentParser
import TokenrunCommands

extension RepeatedProfiles {
    /// Throws a usage error (exit 64) naming a profile given twice.
    static func check(_ names: [String]) throws {
        guard let name = duplicate(in: names) else { return }
        throw ValidationError("profile \(name) is named twice (-p \(name) -p \(name)); name each profile once")
    }
}
