import TestSupport

/// One Markdown file of the repository, read the way GitHub renders its headings and links.
struct MarkdownPage {
    /// The path relative to the repository, such as `docs/vault.md`.
    let path: String
    let text: String

    init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    init?(_ path: String) {
        guard let text = readText(TestProvider.repository + "/" + path) else { return nil }
        self.init(path: path, text: text)
    }

    var lineCount: Int { text.reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }

    /// The lines outside code: fenced blocks and indented code blocks (four spaces or more) left out,
    /// so that neither a `# comment` nor a TOML `[table]` in an example is taken for Markdown.
    var prose: [Substring] {
        var inFence = false
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence || line.hasPrefix("    ") || line.hasPrefix("\t") { continue }
            lines.append(line)
        }
        return lines
    }

    /// The heading texts, `## Exit status` giving "Exit status".
    func headings(level: Int) -> [String] {
        let marker = String(repeating: "#", count: level) + " "
        return prose.filter { $0.hasPrefix(marker) }.map { String($0.dropFirst(marker.count)) }
    }

    /// Every heading's anchor as GitHub makes it: lower case, spaces as `-`, punctuation other than `-`
    /// and `_` dropped (backticks and colons too), and a repeated anchor suffixed `-1`, `-2`, ….
    var anchors: Set<String> {
        var seen: [String: Int] = [:]
        var result: Set<String> = []
        for line in prose where line.hasPrefix("#") {
            let hashes = line.prefix { $0 == "#" }.count
            guard hashes <= 6, line.dropFirst(hashes).hasPrefix(" ") else { continue }
            let base = Self.anchor(String(line.dropFirst(hashes + 1)))
            let repeats = seen[base, default: 0]
            seen[base] = repeats + 1
            result.insert(repeats == 0 ? base : "\(base)-\(repeats)")
        }
        return result
    }

    static func anchor(_ heading: String) -> String {
        String(
            heading.lowercased().compactMap { c -> Character? in
                if c == " " { return "-" }
                return c.isLetter || c.isNumber || c == "-" || c == "_" ? c : nil
            })
    }

    /// The targets of the inline links `[text](target)`, whose text may run over several lines.
    var linkTargets: [String] {
        let prose = self.prose.joined(separator: "\n")
        var targets: [String] = []
        var rest = prose[...]
        while let close = rest.range(of: "](") {
            let tail = rest[close.upperBound...]
            guard let end = tail.firstIndex(where: { $0 == ")" || $0 == " " || $0 == "\n" }) else { break }
            if tail[end] == ")", rest[..<close.lowerBound].contains("[") { targets.append(String(tail[..<end])) }
            rest = tail[end...]
        }
        return targets
    }
}
