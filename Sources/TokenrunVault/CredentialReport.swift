// What `status` shows for each credential. Never a token: only state, expiry,
// scopes and whether a refresh token is present.
import TokenrunProfiles

/// One line of `tokenrun status`.
public struct CredentialReport: Sendable, Equatable {
    /// `connected`, `expired`, `invalid` or `not_logged_in`.
    public let state: String
    public let profile: String
    public let expiresAt: Int64?
    public let hasRefreshToken: Bool
    public let hasAccessToken: Bool
    public let scopes: [String]
    public let lastError: String?
    public let updatedAt: Int64?
    /// False when the credential's profile no longer exists.
    public let profileExists: Bool
    /// "oauth", "client_credentials" or "api_key".
    public var kind = "oauth"
    /// Scopes of the profile that the stored grant lacks: a new login is needed.
    public var missingScopes: [String] = []

    public init(credential: Credential, profileExists: Bool) {
        state = credential.state.rawValue
        profile = credential.profile
        expiresAt = credential.expiresAt
        hasRefreshToken = credential.refreshToken != nil
        hasAccessToken = credential.accessToken != nil
        scopes = credential.scopes
        lastError = credential.lastError
        updatedAt = credential.updatedAt
        self.profileExists = profileExists
    }

    public init(notLoggedIn profile: String) {
        state = "not_logged_in"
        self.profile = profile
        expiresAt = nil
        hasRefreshToken = false
        hasAccessToken = false
        scopes = []
        lastError = nil
        updatedAt = nil
        profileExists = true
    }

    /// The reports for `profiles` (or, when nil, every stored credential plus each
    /// user-defined profile without one), sorted by profile name.
    public static func build(
        credentials: [Credential], profiles requested: [String]?, store: ProfileStore
    ) -> [CredentialReport] {
        let byName = Dictionary(credentials.map { ($0.profile, $0) }, uniquingKeysWith: { a, _ in a })
        let names: [String]
        if let requested {
            names = requested
        } else {
            let userProfiles = store.effectiveCandidates().filter { !$0.isBuiltin }.map(\.name)
            names = Array(Set(byName.keys).union(userProfiles)).sorted()
        }
        return names.map { name in
            let profile = try? store.load(name)
            var report =
                byName[name].map { CredentialReport(credential: $0, profileExists: !store.candidates(named: name).isEmpty) }
                ?? CredentialReport(notLoggedIn: name)
            if let profile {
                report.kind = profile.kind == .apiKey ? "api_key" : profile.grantType == .clientCredentials ? "client_credentials" : "oauth"
                if let credential = byName[name] { report.missingScopes = profile.scopesMissing(from: credential) }
            }
            return report
        }
    }
}
