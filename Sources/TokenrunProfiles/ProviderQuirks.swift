// What tokenrun knows about specific providers (docs/providers.md), recognised by
// the host of the token endpoint: how to get a refresh token out of them, and
// how long their refresh tokens live. Used by login's errors and by doctor.

/// Providers with known behaviour.
public enum KnownProvider: String, Sendable {
    case google, microsoft, github

    /// The provider whose token endpoint this profile uses, if known.
    public static func of(_ profile: Profile) -> KnownProvider? {
        guard let host = profile.oauth.tokenEndpoint.flatMap({ Endpoint.host(ofURL: $0) })?.lowercased() else { return nil }
        func under(_ domain: String) -> Bool { host == domain || host.hasSuffix("." + domain) }
        if under("googleapis.com") || under("google.com") { return .google }
        if under("microsoftonline.com") || under("login.live.com") || under("microsoftonline.us") { return .microsoft }
        if under("github.com") { return .github }
        return nil
    }
}

/// Provider-specific advice.
public enum ProviderQuirks {
    /// The change that makes the provider return a refresh token.
    public static func missingRefreshTokenFix(_ profile: Profile) -> String {
        switch KnownProvider.of(profile) {
        case .microsoft:
            "Microsoft returns a refresh token only when offline_access is among the scopes: add \"offline_access\" to oauth.scopes of profile \(profile.name)"
        case .google:
            "Google returns a refresh token only with access_type=offline, and again after an earlier consent only with prompt=consent: set both under [oauth.authorization_params] of profile \(profile.name)"
        case .github:
            "GitHub returns refresh tokens only for GitHub Apps with \"Expire user authorization tokens\" enabled: enable it in the app's settings"
        case nil:
            "ask the provider for offline access: most need \"offline_access\" in oauth.scopes of profile \(profile.name)"
        }
    }

    /// Where a person withdraws the grant by hand, for providers known to tokenrun.
    public static func grantsPage(_ profile: Profile) -> String? {
        switch KnownProvider.of(profile) {
        case .google: "https://myaccount.google.com/connections"
        case .microsoft:
            "https://myapps.microsoft.com (work or school accounts) or https://account.live.com/consent/Manage (personal accounts)"
        case .github: "https://github.com/settings/apps/authorizations"
        case nil: nil
        }
    }

    /// Problems with a profile's settings that stop refresh tokens from being issued.
    public static func configurationWarnings(_ profile: Profile) -> [String] {
        guard profile.kind == .oauth, profile.grantType != .clientCredentials else { return [] }
        switch KnownProvider.of(profile) {
        case .microsoft where !profile.oauth.scopes.contains("offline_access"):
            return ["Microsoft profile without offline_access in oauth.scopes: no refresh token will be issued"]
        case .google where profile.grantType == .authorizationCode && profile.oauth.authorizationParams["access_type"] != "offline":
            return ["Google profile without access_type = \"offline\" in [oauth.authorization_params]: no refresh token will be issued"]
        default:
            return []
        }
    }

    /// Known refresh-token lifetimes, as (limit in seconds, what it means, measured from the grant or from the last use).
    public struct Limit: Sendable {
        public let seconds: Int64
        public let fromLastUse: Bool
        public let text: String
    }

    public static func refreshTokenLimits(_ profile: Profile) -> [Limit] {
        switch KnownProvider.of(profile) {
        case .google:
            [
                Limit(
                    seconds: 7 * 86400, fromLastUse: false,
                    text: "Google expires refresh tokens after 7 days for apps in \"Testing\" publishing status"),
                Limit(seconds: 183 * 86400, fromLastUse: true, text: "Google expires refresh tokens unused for 6 months"),
            ]
        case .microsoft:
            [Limit(seconds: 90 * 86400, fromLastUse: true, text: "Microsoft refresh tokens expire after 90 days of inactivity")]
        case .github:
            [Limit(seconds: 183 * 86400, fromLastUse: true, text: "GitHub App refresh tokens expire after 6 months")]
        case nil:
            []
        }
    }
}
