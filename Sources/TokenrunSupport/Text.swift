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

// Searching and replacing text without _StringProcessing: its generic firstRange(ofText:),
// contains(_:), replacing(_:with:) and split(separator:) on strings link the whole Regex
// engine and parser (800 KB of code, 130 KB of relocated data) into the warm path's program.
// Like those, these compare Characters (canonical equivalence), not bytes.
extension StringProtocol {
    /// The range of the first occurrence of `other`; nil when there is none (or `other` is empty).
    public func firstRange(ofText other: some StringProtocol) -> Range<Index>? {
        guard let first = other.first else { return nil }
        var start = startIndex
        while let found = self[start...].firstIndex(of: first) {
            var mine = found
            var theirs = other.startIndex
            while mine < endIndex, theirs < other.endIndex, self[mine] == other[theirs] {
                formIndex(after: &mine)
                other.formIndex(after: &theirs)
            }
            if theirs == other.endIndex { return found..<mine }
            start = index(after: found)
        }
        return nil
    }

    /// Whether `other` occurs in the text (never an empty `other`, as `contains(_:)` has it).
    public func containsText(_ other: some StringProtocol) -> Bool {
        firstRange(ofText: other) != nil
    }

    /// The pieces between the occurrences of `separator`, as `split(separator:)` with a string.
    public func split(onText separator: some StringProtocol, maxSplits: Int = .max, omittingEmptySubsequences: Bool = true)
        -> [SubSequence]
    {
        var pieces: [SubSequence] = []
        var start = startIndex
        while pieces.count < maxSplits, let found = self[start...].firstRange(ofText: separator) {
            if !(omittingEmptySubsequences && found.lowerBound == start) { pieces.append(self[start..<found.lowerBound]) }
            start = found.upperBound
        }
        if !(omittingEmptySubsequences && start == endIndex) { pieces.append(self[start...]) }
        return pieces
    }

    /// The text with every occurrence of `target` replaced by `replacement`, left to right.
    public func replacingText(_ target: some StringProtocol, with replacement: some StringProtocol) -> String {
        guard !target.isEmpty else { return String(self) }
        var out = ""
        var start = startIndex
        while let found = self[start...].firstRange(ofText: target) {
            out += self[start..<found.lowerBound]
            out += replacement
            start = found.upperBound
        }
        out += self[start...]
        return out
    }
}
