import Testing
@testable import TokenrunAudit
@testable import TokenrunProfiles
@testable import TokenrunSupport
@testable import TokenrunVault

#if canImport(Glibc)
    import Glibc
#endif

/// A temp-dir world for refresh and launch tests: profiles written as TOML and
/// loaded through `ProfileStore`, and a real key-file vault.
final class VaultFixture {
    let dir = TemporaryDirectory()
    /// A fixed "now" (2023-11-14T22:13:20Z).
    static let now: Int64 = 1_700_000_000
    static let tokenEndpoint = "https://auth.example.test/oauth/token"

    var environment: [String: String] { dir.environment }
    var keys: KeyEnvironment { KeyEnvironment(variables: environment) }
    var paths: Paths { Paths(environment: environment) }
    var sealed: SealedVault { SealedVault(storage: FileVaultStorage(path: paths.vault)) }
    var profiles: ProfileStore { ProfileStore(environment: environment, builtins: [:]) }
    var audit: AuditTrail { AuditTrail(path: paths.auditTrail) }

    private var unlockedVault: UnlockedVault?

    /// The vault, created on first use.
    func vault() throws -> UnlockedVault {
        if let unlockedVault { return unlockedVault }
        let made = try sealed.create(.keyFile(path: keys.keyFileForNewVault), now: Self.now)
        unlockedVault = made
        return made
    }

    /// Writes `config/tokenrun/profiles/NAME.toml` and loads it.
    @discardableResult
    func profile(_ name: String, _ toml: String) throws -> Profile {
        try dir.write("config/tokenrun/profiles/\(name).toml", toml)
        return try profiles.load(name)
    }

    /// A profile with the given `[oauth]` extras and the rest of the file after it.
    @discardableResult
    func profile(
        _ name: String, oauth extra: String = "", window: String = "5m", clientID: String = "tokenrun-cli", rest: String = ""
    ) throws -> Profile {
        try profile(
            name,
            """
            username = "me@acme.example"

            [oauth]
            token_endpoint = "\(Self.tokenEndpoint)"
            client_id = "\(clientID)"
            scopes = ["mail.read", "offline_access"]
            \(extra)

            [refresh]
            window = "\(window)"

            [env]
            ACME_TOKEN = "{{access_token}}"
            \(rest)
            """)
    }

    /// Stores `credential` in the vault and returns it.
    @discardableResult
    func store(_ credential: Credential) throws -> Credential {
        try vault().store(credential)
        return credential
    }

    /// The stored record for `profile`.
    func stored(_ profile: String) throws -> Credential? {
        try vault().credential(for: profile)
    }

    /// A connected credential whose access token was issued `age` seconds
    /// before `now` and lives `lifetime` seconds.
    static func credential(
        _ profile: String, accessToken: String? = "at-old", refreshToken: String? = "rt-old", clientSecret: String? = nil,
        age: Int64 = 0, lifetime: Int64 = 3600, state: CredentialState = .connected
    ) -> Credential {
        let issued = now - age
        return Credential(
            profile: profile, refreshToken: refreshToken.map(SecretString.init), accessToken: accessToken.map(SecretString.init),
            clientSecret: clientSecret.map(SecretString.init), tokenType: "Bearer", scopes: ["mail.read"],
            expiresAt: issued + lifetime, issuedAt: issued, state: state, lastError: nil, updatedAt: issued)
    }
}
