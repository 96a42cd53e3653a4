import FoundationEssentials
import Testing
@testable import TokenrunLaunch
@testable import TokenrunSupport

@Suite("export formats")
struct ExportFormatTests {
    /// Values a token, username or template result might hold, nasty for shells.
    static let nastyValues = [
        "ya29.a0AfH6SMB-plain_token~", "it's", "'", "''", "'\\''", "say \"hi\"", "back\\slash\\", "\\n not a newline",
        "$(touch /tmp/pwned)",
        "`id`", "$HOME ${PATH} $1 $@", "line1\nline2\n", "\n", "  leading and trailing spaces  ", "tab\there", "ünïcödé €𝄞 日本",
        "a;b&&c||d|e>f<g", "*?[a-z]", "#not a comment", "~", "!event", "", "=", "-n", "\r\n", "e\u{301}", "\u{301}'",
    ]

    /// Values where a quote or backslash is followed by a combining mark: one Character, two scalars.
    static let combiningValues = [
        "x'\u{301}$(echo INJECTED)'", "a'\u{301}b", "\\\u{301}'", "\"\u{301}$HOME", "`\u{301}id`", "$\u{301}(id)",
    ]

    static let dotenvValues = nastyValues + combiningValues

    @Test("sh: eval in a real /bin/sh gives back the exact value", arguments: nastyValues + combiningValues)
    func shRoundTrip(_ value: String) throws {
        let text = try ExportFormat.sh.render([("TOKEN", value)])
        let (status, stdout) = try Subprocess.run(
            ["/bin/sh", "-c", #"eval "$OUT"; printf %s "$TOKEN""#], environment: ["OUT": text, "PATH": "/usr/bin:/bin"])
        #expect(status == 0)
        #expect(String(decoding: stdout, as: UTF8.self) == value)
    }

    @Test("regression: a quote followed by a combining mark cannot break out of sh quoting")
    func combiningMarkInjection() throws {
        let text = try ExportFormat.sh.render([("TOKEN", "x'\u{301}$(echo INJECTED)'")])
        let (status, stdout) = try Subprocess.run(
            ["/bin/sh", "-c", #"eval "$OUT"; printf %s "$TOKEN""#], environment: ["OUT": text, "PATH": "/usr/bin:/bin"])
        #expect(status == 0)
        #expect(String(decoding: stdout, as: UTF8.self) == "x'\u{301}$(echo INJECTED)'")
    }

    @Test("regression: dotenv escapes a CRLF pair, so the value stays on one line")
    func dotenvCRLF() {
        #expect(Quoting.dotenv("a\r\nb") == #""a\r\nb""#)
    }

    @Test("sh: several variables in one output, each exported")
    func shSeveral() throws {
        let variables = [("A", "it's"), ("B", "$(echo no)"), ("C", "x\ny")]
        let text = try ExportFormat.sh.render(variables)
        #expect(text == "export A='it'\\''s'\nexport B='$(echo no)'\nexport C='x\ny'\n")
        // Exported: a child of the evaluating shell sees them.
        let (status, stdout) = try Subprocess.run(
            ["/bin/sh", "-c", #"eval "$OUT"; /bin/sh -c 'printf "%s|%s|%s" "$A" "$B" "$C"'"#],
            environment: ["OUT": text, "PATH": "/usr/bin:/bin"])
        #expect(status == 0)
        #expect(String(decoding: stdout, as: UTF8.self) == "it's|$(echo no)|x\ny")
    }

    @Test(
        "sh quoting",
        arguments: [("abc", "'abc'"), ("", "''"), ("it's", #"'it'\''s'"#), (#"a\b"#, #"'a\b'"#), ("$x", "'$x'")])
    func shQuote(_ value: String, _ expected: String) {
        #expect(Quoting.sh(value) == expected)
    }

    @Test(
        "fish quoting: single quotes, only \\ and ' escaped",
        arguments: [
            ("abc", "'abc'"), ("", "''"), ("it's", #"'it\'s'"#), (#"a\b"#, #"'a\\b'"#), (#"\'"#, #"'\\\''"#),
            ("$HOME (ls)", "'$HOME (ls)'"),
            ("a\nb", "'a\nb'"), ("\"x\"", "'\"x\"'"),
        ])
    func fishQuote(_ value: String, _ expected: String) {
        #expect(Quoting.fish(value) == expected)
    }

    @Test("fish: set -gx lines, and the quoting reverses to the value", arguments: nastyValues + combiningValues)
    func fishRender(_ value: String) throws {
        let text = try ExportFormat.fish.render([("TOKEN", value)])
        #expect(text == "set -gx TOKEN \(Quoting.fish(value));\n")
        #expect(Self.fishUnquote(Quoting.fish(value)) == value)
    }

    @Test(
        "dotenv: double quotes with \\\\ \\\" \\$ \\` \\n \\r escaped",
        arguments: [
            ("abc", #""abc""#), ("", #""""#), (#"say "hi""#, #""say \"hi\"""#), (#"a\b"#, #""a\\b""#), ("$HOME", #""\$HOME""#),
            ("`id`", #""\`id\`""#), ("a\nb", #""a\nb""#), ("a\rb", #""a\rb""#), ("it's", #""it's""#), ("tab\t", "\"tab\t\""),
        ])
    func dotenvQuote(_ value: String, _ expected: String) {
        #expect(Quoting.dotenv(value) == expected)
    }

    @Test("dotenv: one line per variable, and the escaping reverses to the value", arguments: dotenvValues)
    func dotenvRender(_ value: String) throws {
        let text = try ExportFormat.dotenv.render([("TOKEN", value)])
        #expect(text == "TOKEN=\(Quoting.dotenv(value))\n")
        #expect(text.filter(\.isNewline).count == 1, "a value spilled onto another line")
        #expect(Self.dotenvUnquote(Quoting.dotenv(value)) == value)
    }

    @Test("json: decodes back to the same variables, keys sorted, slashes not escaped")
    func json() throws {
        let variables = Self.nastyValues.enumerated().map { ("V\($0.offset)", $0.element) } + [("URL", "https://a/b")]
        let text = try ExportFormat.json.render(variables)
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains(#""URL" : "https://a/b""#))
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        #expect(decoded == Dictionary(uniqueKeysWithValues: variables))
        let keys = text.split(separator: "\n").compactMap { line in line.firstRange(of: "\" : ").map { String(line[..<$0.lowerBound]) } }
        #expect(keys == keys.sorted())
    }

    @Test("json: a repeated variable keeps its last value")
    func jsonDuplicates() throws {
        let text = try ExportFormat.json.render([("A", "1"), ("A", "2")])
        #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == ["A": "2"])
    }

    @Test("no variables: empty output, or an empty JSON object")
    func empty() throws {
        #expect(try ExportFormat.sh.render([]) == "")
        #expect(try ExportFormat.fish.render([]) == "")
        #expect(try ExportFormat.dotenv.render([]) == "")
        #expect(try JSONDecoder().decode([String: String].self, from: Data(ExportFormat.json.render([]).utf8)) == [:])
    }

    /// fish's single-quote rules: `\\` is a backslash, `\'` a quote, any other backslash literal.
    /// (Scalar by scalar, as a shell reads bytes: a quote followed by a combining mark is still a quote.)
    static func fishUnquote(_ quoted: String) -> String? {
        let scalars = Array(quoted.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "'", scalars.last == "'" else { return nil }
        var out = String.UnicodeScalarView()
        var characters = scalars.dropFirst().dropLast().makeIterator()
        while let c = characters.next() {
            if c == "'" { return nil }  // an unescaped quote would end the string
            if c == "\\" {
                guard let next = characters.next() else { return nil }  // the closing quote would be escaped
                if next == "\\" || next == "'" {
                    out.append(next)
                } else {
                    out.append(c)
                    out.append(next)
                }
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    /// python-dotenv's double-quote rules for the escapes tokenrun writes, scalar by scalar.
    static func dotenvUnquote(_ quoted: String) -> String? {
        let scalars = Array(quoted.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" else { return nil }
        var out = String.UnicodeScalarView()
        var characters = scalars.dropFirst().dropLast().makeIterator()
        while let c = characters.next() {
            if c == "\"" { return nil }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            switch characters.next() {
            case "n"?: out.append("\n")
            case "r"?: out.append("\r")
            case let escaped?: out.append(escaped)
            case nil: return nil
            }
        }
        return String(out)
    }
}
