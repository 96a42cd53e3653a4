/// A `{{variable}}` template from a profile's `[env]` or `[[file]]`.
public struct Template: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        case text(String)
        case variable(String)
    }

    /// Variables every template may use.
    public static let variables = [
        "access_token", "token_type", "expires_at", "expires_in", "scope", "id_token", "client_id", "username",
        "xoauth2",
    ]
    /// Only for profiles that set `expose_refresh_token = true`.
    public static let refreshTokenVariable = "refresh_token"

    public let source: String
    public let segments: [Segment]

    /// Why a template was refused.
    public enum ParseError: Error, Sendable, Equatable {
        case unclosed
        case empty
        case badName(String)
    }

    public init(parsing source: String) throws(ParseError) {
        self.source = source
        var segments: [Segment] = []
        var rest = source[...]
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstRange(of: "}}") else { throw .unclosed }
            let name = String(afterOpen[..<close.lowerBound]).trimmingSpaces
            guard !name.isEmpty else { throw .empty }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { throw .badName(name) }
            segments.append(.variable(name))
            rest = afterOpen[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        self.segments = segments
    }

    /// The variables the template uses, in order.
    public var variableNames: [String] {
        segments.compactMap { if case .variable(let name) = $0 { name } else { nil } }
    }

    /// Renders with `values`; a variable without a value renders as the empty string.
    public func render(_ values: [String: String]) -> String {
        segments.map { segment in
            switch segment {
            case .text(let text): text
            case .variable(let name): values[name] ?? ""
            }
        }.joined()
    }
}
