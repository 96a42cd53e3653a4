// When to refresh: when the access token expires within the
// profile's window, but never while more than half of its issued lifetime is
// left — so a 10-minute token with a 5-minute window is not refreshed on every
// call — unless --min-ttl asks for more remaining life than the token has.
// A --min-ttl longer than the provider makes its tokens live can never be
// met: once a token has come from the provider with a shorter lifetime, it
// no longer forces a refresh (the launch warns instead), so it does not cost
// a request on every call. --refresh asks for a new token whatever is stored.
// Pure arithmetic on the stored record: deciding touches no network code.
import TokenrunVault

/// Decides whether a stored access token is fresh enough.
public struct RefreshPolicy: Sendable, Equatable {
    /// Refresh when fewer seconds than this are left.
    public var window: Int64
    /// Seconds of life the caller needs, from --min-ttl.
    public var minTTL: Int64?
    /// Refresh whatever is stored (--refresh).
    public var force: Bool

    public init(window: Int64, minTTL: Int64? = nil, force: Bool = false) {
        self.window = window
        self.minTTL = minTTL
        self.force = force
    }

    /// True when `credential` needs a refresh at `now`.
    public func needsRefresh(_ credential: Credential, now: Int64) -> Bool {
        if force { return true }
        guard credential.accessToken != nil, let expiresAt = credential.expiresAt else { return true }
        let remaining = expiresAt - now
        if remaining <= 0 { return true }
        if let minTTL, remaining < minTTL, !Self.providerCannotMeet(minTTL, credential) { return true }
        if let issuedAt = credential.issuedAt, expiresAt > issuedAt, remaining * 2 > expiresAt - issuedAt { return false }
        return remaining <= window
    }

    /// True when `credential`'s token came from the token endpoint (a login or a refresh)
    /// with a lifetime shorter than `minTTL`: asking again would bring the same.
    public static func providerCannotMeet(_ minTTL: Int64, _ credential: Credential) -> Bool {
        guard credential.refreshedAt != nil, let lifetime = issuedLifetime(credential) else { return false }
        return lifetime < minTTL
    }

    /// How long the provider made `credential`'s access token live, when known.
    public static func issuedLifetime(_ credential: Credential) -> Int64? {
        guard let issuedAt = credential.issuedAt, let expiresAt = credential.expiresAt, expiresAt > issuedAt else { return nil }
        return expiresAt - issuedAt
    }
}
