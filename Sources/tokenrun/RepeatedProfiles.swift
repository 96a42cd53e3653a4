import ArgumentParser

/// The check shared by commands whose -p repeats: each profile is named once.
enum RepeatedProfiles {
    /// The first name given twice, if any.
    static func duplicate(in names: [String]) -> String? {
        var seen = Set<String>()
        return names.first { !seen.insert($0).inserted }
    }

    /// Throws a usage error (exit 64) naming a profile given twice.
    static func check(_ names: [String]) throws {
        guard let name = duplicate(in: names) else { return }
        throw ValidationError("profile \(name) is named twice (-p \(name) -p \(name)); name each profile once")
    }
}
