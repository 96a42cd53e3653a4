// Printing variables for shells and tools. Each format's quoting survives any
// byte a token can hold (NUL excepted: no environment variable can hold it).
import TokenrunSupport
import FoundationEssentials

/// Output formats of `tokenrun export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case sh, fish, dotenv, json

    /// The variables as text in this format, in the given order.
    public func render(_ variables: [(String, String)]) throws -> String {
        switch self {
        case .sh:
            return variables.map { "export \($0.0)=\(Quoting.sh($0.1))\n" }.joined()
        case .fish:
            return variables.map { "set -gx \($0.0) \(Quoting.fish($0.1));\n" }.joined()
        case .dotenv:
            return variables.map { "\($0.0)=\(Quoting.dotenv($0.1))\n" }.joined()
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let object = Dictionary(variables, uniquingKeysWith: { _, last in last })
            return String(decoding: try encoder.encode(object), as: UTF8.self) + "\n"
        }
    }
}
