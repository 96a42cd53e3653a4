/// What getting a usable access token involved.
public enum RefreshOutcome: Sendable, Equatable {
    /// The stored token was fresh enough: no network.
    case fresh
    /// Another process refreshed while this one waited for the lock.
    case refreshedElsewhere
    /// This process refreshed; `rotated` when a new refresh token came back.
    case refreshed(rotated: Bool, latencyMs: Int)
    /// The refresh failed transiently, but the stored token is still valid.
    case staleButValid(reason: String)
}

/// One refresh attempt, for the audit trail.
public struct RefreshAttempt: Sendable, Equatable {
    public var profile: String
    public var outcome: String  // "ok", "failed"
    public var errorClass: String?
    public var latencyMs: Int
    public var rotated: Bool
    public var attempts: Int
    /// The token endpoint's HTTP status, when it answered.
    public var httpStatus: Int? = nil
}
