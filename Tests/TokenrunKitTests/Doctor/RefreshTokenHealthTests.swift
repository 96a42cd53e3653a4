import Testing
@testable import TokenrunDoctor
@testable import TokenrunProfiles
@testable import TokenrunVault

@Suite("doctor: refresh token health")
struct RefreshTokenHealthTests {
    let world = VaultFixture()
    static let now = VaultFixture.now
    static let day: Int64 = 86400

    func google() throws -> Profile {
        try world.profile(
            "gmail",
            """
            [oauth]
            token_endpoint = "https://oauth2.googleapis.com/token"
            authorization_endpoint = "https://accounts.google.com/o/oauth2/v2/auth"
            client_id = "1234.apps.googleusercontent.com"
            scopes = ["https://mail.google.com/"]
            [oauth.authorization_params]
            access_type = "offline"
            """)
    }

    func microsoft() throws -> Profile {
        try world.profile(
            "outlook",
            """
            [oauth]
            token_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
            client_id = "00000000-0000-0000-0000-000000000000"
            scopes = ["offline_access", "https://outlook.office.com/SMTP.Send"]
            """)
    }

    /// A connected credential granted `grantedAgo` seconds ago and last refreshed `refreshedAgo` ago.
    static func credential(_ profile: String, grantedAgo: Int64?, refreshedAgo: Int64?) -> Credential {
        var credential = VaultFixture.credential(profile)
        credential.grantedAt = grantedAgo.map { now - $0 }
        credential.refreshedAt = refreshedAgo.map { now - $0 }
        return credential
    }

    @Test("a Google grant 6.5 days old warns that the 7-day Testing limit is near, with the publishing fix")
    func googleNearTestingLimit() throws {
        let check = RefreshTokenHealth.check(
            profile: try google(), credential: Self.credential("gmail", grantedAgo: 6 * Self.day + Self.day / 2, refreshedAgo: 3600),
            now: Self.now)
        #expect(check.name == "credential.gmail.refresh_token")
        #expect(check.status == .warn)
        #expect(check.message.contains("7 days"))
        #expect(check.message.contains("re-consent is likely soon"))
        #expect(check.message.contains("granted 6d ago"))
        #expect(check.fix?.contains("In production") == true)
    }

    @Test("a Google grant past 7 days warns that re-consent is likely; a 2-day-old one passes")
    func googlePastAndWithin() throws {
        let profile = try google()
        let old = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("gmail", grantedAgo: 8 * Self.day, refreshedAgo: 60), now: Self.now)
        #expect(old.status == .warn)
        #expect(old.message.contains("re-consent is likely"))
        #expect(!old.message.contains("soon"))
        let young = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("gmail", grantedAgo: 2 * Self.day, refreshedAgo: 60), now: Self.now)
        #expect(young.status == .pass, "\(young.message)")
        #expect(young.fix == nil)
        #expect(young.message.contains("within the provider's known limits"))
    }

    @Test("Microsoft's 90-day inactivity limit counts from the last refresh, not from the grant")
    func microsoftInactivity() throws {
        let profile = try microsoft()
        let busy = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("outlook", grantedAgo: 400 * Self.day, refreshedAgo: Self.day), now: Self.now)
        #expect(busy.status == .pass, "\(busy.message)")
        let idle = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("outlook", grantedAgo: 400 * Self.day, refreshedAgo: 80 * Self.day),
            now: Self.now)
        #expect(idle.status == .warn)
        #expect(idle.message.contains("inactivity"))
        #expect(idle.message.contains("unused for 80d"))
        #expect(idle.fix?.contains("tokenrun get -p outlook") == true)
        let dead = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("outlook", grantedAgo: 400 * Self.day, refreshedAgo: 95 * Self.day),
            now: Self.now)
        #expect(dead.status == .warn)
        #expect(dead.fix == "tokenrun login -p outlook --force")
    }

    @Test("a never-refreshed grant counts its inactivity from the grant")
    func neverRefreshed() throws {
        let check = RefreshTokenHealth.check(
            profile: try microsoft(), credential: Self.credential("outlook", grantedAgo: 85 * Self.day, refreshedAgo: nil), now: Self.now)
        #expect(check.status == .warn)
        #expect(check.message.contains("not refreshed since"))
    }

    @Test("an unknown provider has no known limit, however old the grant")
    func unknownProvider() throws {
        let profile = try world.profile("acme")
        let check = RefreshTokenHealth.check(
            profile: profile, credential: Self.credential("acme", grantedAgo: 1000 * Self.day, refreshedAgo: 900 * Self.day), now: Self.now)
        #expect(check.status == .pass)
        #expect(check.message.contains("no known lifetime limit"))
    }

    @Test("an unknown age is said, not guessed")
    func unknownAge() throws {
        let check = RefreshTokenHealth.check(
            profile: try microsoft(), credential: Self.credential("outlook", grantedAgo: nil, refreshedAgo: nil), now: Self.now)
        #expect(check.status == .pass)
        #expect(check.message.contains("age unknown"))
    }

    @Test("API keys and client credentials have nothing to refresh")
    func nothingToRefresh() throws {
        let key = try world.profile("key", "kind = \"api_key\"\n[env]\nKEY = \"{{access_token}}\"\n")
        let keyCheck = RefreshTokenHealth.check(
            profile: key, credential: VaultFixture.credential("key", refreshToken: nil), now: Self.now)
        #expect(keyCheck.status == .pass)
        #expect(keyCheck.message.contains("nothing to refresh"))
        let machine = try world.profile("machine", oauth: "grant_type = \"client_credentials\"")
        let machineCheck = RefreshTokenHealth.check(
            profile: machine, credential: VaultFixture.credential("machine", refreshToken: nil), now: Self.now)
        #expect(machineCheck.status == .pass)
        #expect(machineCheck.message.contains("nothing to refresh"))
    }

    @Test("an OAuth credential without a refresh token fails with the provider's fix")
    func missingRefreshToken() throws {
        let check = RefreshTokenHealth.check(
            profile: try microsoft(), credential: VaultFixture.credential("outlook", refreshToken: nil), now: Self.now)
        #expect(check.status == .fail)
        #expect(check.fix?.contains("offline_access") == true)
        #expect(check.fix?.hasSuffix("tokenrun login -p outlook --force") == true)
    }
}
