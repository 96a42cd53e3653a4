/// The check shared by commands whose -p repeats: each profile is named once.
public enum RepeatedProfiles {
    /// The first name given twice, if any.
    public static func duplicate(in names: [String]) -> String? {
        var seen = Set<String>()
        return names.first { !seen.insert($0).inserted }
    }
}
