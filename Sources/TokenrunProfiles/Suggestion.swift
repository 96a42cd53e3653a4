/// "Did you mean …?" for misspelt keys and names.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        let lower = Array(word.lowercased())
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lower, Array(candidate.lowercased()))
            if best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = max(2, min(lower.count, candidate.count) / 3)
        if distance <= limit || candidate.lowercased().hasPrefix(word.lowercased()) || word.lowercased().hasPrefix(candidate.lowercased()) {
            return candidate
        }
        return nil
    }

    /// Levenshtein distance.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// "did you mean \"x\"?" or the list of valid choices.
    public static func hint(for word: String, in candidates: [String], noun: String = "key") -> String {
        if let near = nearest(to: word, in: candidates) { return "did you mean \"\(near)\"?" }
        return "valid \(noun)s here: \(candidates.joined(separator: ", "))"
    }
}
