import ArgumentParser
import Foundation
import Testing

@testable import tokenrun

/// The tokenrun command lines the documentation shows, as a reader would paste them.
/// What each one does is run by the end-to-end tests; this holds the pages to the
/// command line that exists, so that a renamed flag cannot linger in an example.
@Suite("every tokenrun command the documentation shows is one tokenrun accepts")
struct DocumentedCommandsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var pages: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: repository + "/docs")) ?? []
        return ["README.md", "CONTRIBUTING.md", "SECURITY.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    /// The lines of code in `text`: indented four spaces or inside a fence.
    static func codeLines(_ text: String) -> [String] {
        var inFence = false
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inFence.toggle()
            } else if inFence || line.hasPrefix("    ") {
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        return lines
    }

    /// Each tokenrun invocation on a line of code: the line itself, or inside `$(…)`, as shell words.
    static func invocations(_ line: String) -> [[String]] {
        var starts: [String.Index] = []
        if line.hasPrefix("tokenrun ") { starts.append(line.startIndex) }
        if line.hasPrefix("$ tokenrun ") { starts.append(line.index(line.startIndex, offsetBy: 2)) }
        var rest = line[...]
        while let found = rest.range(of: "$(tokenrun ") {
            starts.append(line.index(found.lowerBound, offsetBy: 2))
            rest = line[found.upperBound...]
        }
        return starts.compactMap { words(line[$0...]) }.map { Array($0.dropFirst()) }
    }

    /// Shell words up to the end of the command (a comment, pipe, redirection, `)` or `&&`); nil if a quote is unclosed.
    static func words(_ text: Substring) -> [String]? {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                inWord = true
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "#" where !inWord, "|", ">", "<", ")", "&", ";":
                if inWord { words.append(word) }
                return quote == nil ? words : nil
            default:
                word.append(character)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return quote == nil ? words : nil
    }

    @Test("the shell-word reader stops at comments, pipes and redirections and keeps quoted words whole")
    func wordReading() {
        #expect(Self.invocations("tokenrun get -p gmail --json   # for scripts") == [["get", "-p", "gmail", "--json"]])
        #expect(Self.invocations("tokenrun export -p gmail --format dotenv > .env") == [["export", "-p", "gmail", "--format", "dotenv"]])
        #expect(Self.invocations(#"eval "$(tokenrun export -p gmail)""#) == [["export", "-p", "gmail"]])
        #expect(
            Self.invocations("tokenrun run --serve -p g -- python3 -c 'import a; print(1)'")
                == [["run", "--serve", "-p", "g", "--", "python3", "-c", "import a; print(1)"]])
        #expect(Self.invocations("$ tokenrun doctor") == [["doctor"]])
        #expect(Self.invocations("curl -s https://example.com").isEmpty)
    }

    @Test("each one parses as tokenrun's command line parses it")
    func documentedCommandsParse() throws {
        var checked = 0
        for page in Self.pages {
            let text = try String(contentsOfFile: Self.repository + "/" + page, encoding: .utf8)
            for line in Self.codeLines(text) {
                for arguments in Self.invocations(line) {
                    checked += 1
                    do {
                        _ = try TokenrunCommand.parseAsRoot(arguments)
                    } catch {
                        if TokenrunCommand.exitCode(for: error) == .success { continue }
                        Issue.record("\(page): `\(line)` does not parse: \(TokenrunCommand.message(for: error))")
                    }
                }
            }
        }
        #expect(checked > 60, "only \(checked) commands found: is the reader broken?")
    }
}
