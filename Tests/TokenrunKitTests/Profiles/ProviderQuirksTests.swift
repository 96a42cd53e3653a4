import Testing
@testable import TokenrunProfiles

@Suite("provider quirks")
struct ProviderQuirksTests {
    static func profile(
        _ tokenEndpoint: String?, scopes: [String] = [], params: [String: String] = [:], grant: GrantType? = nil, kind: ProfileKind = .oauth
    ) -> Profile {
        Profile.make("acme", kind: kind) {
            $0.tokenEndpoint = tokenEndpoint
            $0.scopes = scopes
            $0.authorizationParams = params
            $0.grantType = grant
        }
    }

    @Test(
        "providers are known by their token endpoint's host and its subdomains",
        arguments: [
            ("https://oauth2.googleapis.com/token", KnownProvider.google), ("https://accounts.google.com/o/oauth2/token", .google),
            ("https://googleapis.com/token", .google), ("https://OAUTH2.GoogleAPIs.com/token", .google),
            ("https://login.microsoftonline.com/common/oauth2/v2.0/token", .microsoft),
            ("https://login.microsoftonline.us/tenant/oauth2/v2.0/token", .microsoft),
            ("https://login.live.com/oauth20_token.srf", .microsoft),
            ("https://github.com/login/oauth/access_token", .github), ("https://api.github.com/x", .github),
            ("https://oauth2.googleapis.com:443/token", .google),
        ] as [(String, KnownProvider)])
    func known(_ url: String, _ provider: KnownProvider) {
        #expect(KnownProvider.of(Self.profile(url)) == provider)
    }

    @Test(
        "lookalike hosts are not the provider",
        arguments: [
            "https://evilgoogle.com/token", "https://google.com.evil.example/token", "https://googleapis.com.evil.example/token",
            "https://notgithub.com/login/oauth/access_token", "https://github.com.evil.example/t", "https://evil.example/google.com/token",
            "https://evil.example/?h=login.microsoftonline.com", "https://live.com/token", "https://xlogin.live.com/token",
            "https://evil.example#.github.com", "https://auth.example.test/token",
        ])
    func lookalikes(_ url: String) {
        #expect(KnownProvider.of(Self.profile(url)) == nil)
    }

    @Test("no token endpoint: no known provider")
    func noEndpoint() {
        #expect(KnownProvider.of(Self.profile(nil)) == nil)
    }

    @Test("the missing refresh token fix names the provider's own remedy and the profile")
    func missingRefreshTokenFix() {
        let microsoft = ProviderQuirks.missingRefreshTokenFix(Self.profile("https://login.microsoftonline.com/common/oauth2/v2.0/token"))
        #expect(microsoft.contains("offline_access"))
        #expect(microsoft.contains("profile acme"))
        let google = ProviderQuirks.missingRefreshTokenFix(Self.profile("https://oauth2.googleapis.com/token"))
        #expect(google.contains("access_type=offline"))
        #expect(google.contains("prompt=consent"))
        #expect(google.contains("[oauth.authorization_params]"))
        let github = ProviderQuirks.missingRefreshTokenFix(Self.profile("https://github.com/login/oauth/access_token"))
        #expect(github.contains("GitHub App"))
        let other = ProviderQuirks.missingRefreshTokenFix(Self.profile("https://auth.example.test/token"))
        #expect(other.contains("offline_access"))
    }

    @Test("a Microsoft profile without offline_access is warned about; with it, not")
    func microsoftWarning() {
        let url = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        let warnings = ProviderQuirks.configurationWarnings(Self.profile(url, scopes: ["Mail.Read"]))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("offline_access") == true)
        #expect(ProviderQuirks.configurationWarnings(Self.profile(url, scopes: ["Mail.Read", "offline_access"])).isEmpty)
    }

    @Test("a Google browser-login profile without access_type=offline is warned about; with it, not")
    func googleWarning() {
        let url = "https://oauth2.googleapis.com/token"
        let warnings = ProviderQuirks.configurationWarnings(Self.profile(url, scopes: ["https://mail.google.com/"]))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("access_type") == true)
        #expect(ProviderQuirks.configurationWarnings(Self.profile(url, params: ["access_type": "offline"])).isEmpty)
        #expect(ProviderQuirks.configurationWarnings(Self.profile(url, params: ["access_type": "online"])).count == 1)
    }

    @Test("client_credentials and api_key profiles get no refresh token warnings")
    func noWarnings() {
        for url in ["https://login.microsoftonline.com/t/oauth2/v2.0/token", "https://oauth2.googleapis.com/token"] {
            #expect(ProviderQuirks.configurationWarnings(Self.profile(url, grant: .clientCredentials)).isEmpty, "\(url)")
            #expect(ProviderQuirks.configurationWarnings(Self.profile(url, kind: .apiKey)).isEmpty, "\(url)")
        }
        #expect(ProviderQuirks.configurationWarnings(Self.profile("https://auth.example.test/token")).isEmpty)
        #expect(ProviderQuirks.configurationWarnings(Self.profile("https://github.com/login/oauth/access_token")).isEmpty)
    }

    @Test("known refresh token limits: Google 7 days (testing) and 6 months unused, Microsoft 90 days idle, none for others")
    func limits() {
        let google = ProviderQuirks.refreshTokenLimits(Self.profile("https://oauth2.googleapis.com/token"))
        #expect(google.map(\.seconds) == [7 * 86400, 183 * 86400])
        #expect(google.map(\.fromLastUse) == [false, true])
        let microsoft = ProviderQuirks.refreshTokenLimits(Self.profile("https://login.microsoftonline.com/common/oauth2/v2.0/token"))
        #expect(microsoft.map(\.seconds) == [90 * 86400])
        #expect(microsoft.first?.fromLastUse == true)
        #expect(ProviderQuirks.refreshTokenLimits(Self.profile("https://github.com/login/oauth/access_token")).count == 1)
        #expect(ProviderQuirks.refreshTokenLimits(Self.profile("https://auth.example.test/token")).isEmpty)
    }
}
