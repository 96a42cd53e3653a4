// Printing variables for shells and tools. Each format's quoting survives any
// byte a token can hold (NUL excepted: no environment variable can hold it).
import TokenrunSupport

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
            // One member per line, keys sorted, a repeated variable's last value, slashes as they are.
            let object = Dictionary(variables, uniquingKeysWith: { _, last in last })
            let members = object.keys.sorted().map { "  \(Quoting.json($0)) : \(Quoting.json(object[$0]!))" }
            return members.isEmpty ? "{}\n" : "{\n" + Text.join(members, ",\n") + "\n}\n"
        }
    }
}
