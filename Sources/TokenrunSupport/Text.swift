/// Small string helpers for the warm path.
public enum Text {
    /// `parts` joined with `separator`, as `parts.joined(separator:)`. Concrete on purpose: the
    /// standard library's generic joined(separator:) runs unspecialized from here, and its first
    /// call in a process scans every protocol conformance in the binary (Collection for [String]).
    public static func join(_ parts: [String], _ separator: String) -> String {
        var out = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { out += separator }
            out += part
        }
        return out
    }
}
