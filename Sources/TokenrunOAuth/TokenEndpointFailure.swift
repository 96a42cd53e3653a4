// A failed token request, with what its answer said besides the error. The
// status and the server's clock belong to the failing answer, not to the last
// good one: a clock hint on invalid_grant is only as good as the Date it was
// computed from. A new refresh token in an otherwise unusable 200 is kept here
// because the provider has already rotated: dropping it would make the next
// refresh a reuse of the old token.
import TokenrunSupport

/// A failed exchange with the token endpoint and what its answer carried.
public struct TokenEndpointFailure: Error, Sendable, Equatable {
    public var error: TokenEndpointError
    /// The answer's HTTP status; nil when no answer came.
    public var httpStatus: Int?
    /// Server time minus local time, from the failing answer's `Date` header.
    public var clockSkew: Int64?
    /// A new refresh token from a 200 answer whose other members were unusable.
    public var refreshToken: SecretString?

    public init(_ error: TokenEndpointError, httpStatus: Int? = nil, clockSkew: Int64? = nil, refreshToken: SecretString? = nil) {
        self.error = error
        self.httpStatus = httpStatus
        self.clockSkew = clockSkew
        self.refreshToken = refreshToken
    }

    /// The error's explanation, naming the HTTP status when the explanation does not already.
    public var explanation: String {
        let text = error.explanation
        guard let httpStatus, !text.contains("HTTP \(httpStatus)") else { return text }
        return "\(text) (HTTP \(httpStatus))"
    }
}
