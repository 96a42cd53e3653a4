// Printing variables for shells and tools. Each format's quoting survives any
// byte a token can hold (NUL excepted: no environment variable can hold it).
import FoundationEssentials

/// Output formats of `tokenrun export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case sh, fish, dotenv, json

    /// The variables as text in this format, in the given order.
    public func render(_ variables: [(String, String)]) throws -> String {
        switch self {
        case .sh:
            return variables.map { "export \($0.0)=\(Self.shQuote($0.1))\n" }.joined()
        case .fish:
            return variables.map { "set -gx \($0.0) \(Self.fishQuote($0.1));\n" }.joined()
        case .dotenv:
            return variables.map { "\($0.0)=\(Self.dotenvQuote($0.1))\n" }.joined()
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let object = Dictionary(variables, uniquingKeysWith: { _, last in last })
            return String(decoding: try encoder.encode(object), as: UTF8.self) + "\n"
        }
    }

    // Quoting works on Unicode scalars, not Characters: a quote followed by a
    // combining mark is one Character ("'\u{301}") but still a quote to a shell.

    /// POSIX shell: single quotes, with ' written as '\''.
    public static func shQuote(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            if scalar == "'" { out += "'\\''" } else { out.unicodeScalars.append(scalar) }
        }
        return out + "'"
    }

    /// fish: single quotes, where only \ and ' are escaped.
    public static func fishQuote(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            if scalar == "\\" || scalar == "'" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out + "'"
    }

    /// dotenv: double quotes with \\, \", \$, \` , \n and \r escaped (python-dotenv, docker compose read these).
    public static func dotenvQuote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "$": out += "\\$"
            case "`": out += "\\`"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
