@testable import TokenrunProfiles

extension Profile {
    /// A profile built in code rather than read from a file, with `[oauth]` filled in by `configure`.
    static func make(
        _ name: String = "acme", kind: ProfileKind = .oauth, onReauthRequired: String? = nil,
        configure: (inout OAuthSettings) -> Void = { _ in }
    ) -> Profile {
        var oauth = OAuthSettings()
        configure(&oauth)
        return Profile(
            name: name, source: "test", chain: ["test"], description: nil, username: nil, exposeRefreshToken: false, kind: kind,
            onReauthRequired: onReauthRequired, oauth: oauth, refreshWindow: Profile.defaultRefreshWindow, env: [], files: [])
    }
}
