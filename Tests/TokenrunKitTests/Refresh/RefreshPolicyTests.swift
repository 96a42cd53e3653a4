import Testing
@testable import TokenrunRefresh
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("refresh policy")
struct RefreshPolicyTests {
    static let now: Int64 = 1_700_000_000

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var hasAccessToken = true
        /// Seconds of life the token had when issued; nil: no issued_at stored.
        var lifetime: Int64?
        /// Seconds left at `now`; nil: no expires_at stored.
        var remaining: Int64?
        var window: Int64 = 300
        var minTTL: Int64?
        let refresh: Bool

        var testDescription: String { "\(name) → \(refresh ? "refresh" : "keep")" }

        var credential: Credential {
            let expiresAt = remaining.map { RefreshPolicyTests.now + $0 }
            let issuedAt: Int64? = if let expiresAt, let lifetime { expiresAt - lifetime } else { nil }
            return Credential(
                profile: "p", refreshToken: SecretString("rt"), accessToken: hasAccessToken ? SecretString("at") : nil,
                expiresAt: expiresAt, issuedAt: issuedAt, updatedAt: RefreshPolicyTests.now)
        }
    }

    @Test(
        "when a stored token needs refreshing",
        arguments: [
            Case(name: "no access token", hasAccessToken: false, lifetime: 3600, remaining: 3000, refresh: true),
            Case(name: "no expiry stored", lifetime: nil, remaining: nil, refresh: true),
            Case(name: "expired an hour ago", lifetime: 3600, remaining: -3600, refresh: true),
            Case(name: "expires this second", lifetime: 3600, remaining: 0, refresh: true),
            Case(name: "inside the window", lifetime: 3600, remaining: 200, refresh: true),
            Case(name: "exactly at the window", lifetime: 3600, remaining: 300, refresh: true),
            Case(name: "just outside the window", lifetime: 3600, remaining: 301, refresh: false),
            Case(name: "well outside the window", lifetime: 3600, remaining: 3000, refresh: false),
            Case(name: "inside the window, no issued_at", lifetime: nil, remaining: 200, refresh: true),
            Case(
                name: "600 s token, 900 s window, 400 s left: more than half left", lifetime: 600, remaining: 400, window: 900,
                refresh: false),
            Case(
                name: "600 s token, 900 s window, 300 s left: exactly half left", lifetime: 600, remaining: 300, window: 900, refresh: true),
            Case(name: "600 s token, 900 s window, 100 s left", lifetime: 600, remaining: 100, window: 900, refresh: true),
            Case(name: "half rule never keeps an expired token", lifetime: 600, remaining: -1, window: 900, refresh: true),
            Case(name: "zero window, 10 s left", lifetime: 3600, remaining: 10, window: 0, refresh: false),
            Case(name: "min-ttl larger than remaining", lifetime: 3600, remaining: 2000, minTTL: 2400, refresh: true),
            Case(name: "min-ttl larger than remaining beats the half rule", lifetime: 3600, remaining: 3000, minTTL: 3500, refresh: true),
            Case(name: "min-ttl smaller than remaining", lifetime: 3600, remaining: 2000, minTTL: 600, refresh: false),
            Case(name: "min-ttl equal to remaining", lifetime: 3600, remaining: 2000, minTTL: 2000, refresh: false),
            Case(name: "min-ttl small, but inside the window", lifetime: 3600, remaining: 200, minTTL: 60, refresh: true),
        ])
    func needsRefresh(_ c: Case) {
        let policy = RefreshPolicy(window: c.window, minTTL: c.minTTL)
        #expect(policy.needsRefresh(c.credential, now: Self.now) == c.refresh)
    }

    @Test("issued_at not before expires_at does not stop a refresh")
    func nonsenseIssuedAt() {
        var credential = Case(name: "", lifetime: 3600, remaining: 100, refresh: true).credential
        credential.issuedAt = credential.expiresAt! + 10
        #expect(RefreshPolicy(window: 300).needsRefresh(credential, now: Self.now))
    }

    @Test("a --min-ttl longer than the lifetime the provider gave the stored token does not refresh again, unless inside the window")
    func unmeetableMinTTL() {
        var fromProvider = Case(name: "", lifetime: 3600, remaining: 3000, refresh: false).credential
        fromProvider.refreshedAt = fromProvider.issuedAt
        let policy = RefreshPolicy(window: 300, minTTL: 7200)
        #expect(!policy.needsRefresh(fromProvider, now: Self.now))
        #expect(RefreshPolicy.providerCannotMeet(7200, fromProvider))
        // Its window still applies.
        var late = fromProvider
        late.expiresAt = Self.now + 200
        late.issuedAt = late.expiresAt! - 3600
        late.refreshedAt = late.issuedAt
        #expect(policy.needsRefresh(late, now: Self.now))
        // A lifetime not known to be the provider's (never refreshed here) is tried once.
        var unknown = fromProvider
        unknown.refreshedAt = nil
        #expect(policy.needsRefresh(unknown, now: Self.now))
        // A --min-ttl the provider can meet still forces the refresh.
        #expect(RefreshPolicy(window: 300, minTTL: 3500).needsRefresh(fromProvider, now: Self.now))
    }

    @Test("--refresh refreshes whatever is stored")
    func forced() {
        var fresh = Case(name: "", lifetime: 3600, remaining: 3500, refresh: false).credential
        fresh.refreshedAt = fresh.issuedAt
        #expect(!RefreshPolicy(window: 300).needsRefresh(fresh, now: Self.now))
        #expect(RefreshPolicy(window: 300, force: true).needsRefresh(fresh, now: Self.now))
    }
}
