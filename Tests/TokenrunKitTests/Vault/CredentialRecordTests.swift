import FoundationEssentials
import Testing
@testable import TokenrunSodium
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("credential record: the vault's writer and the warm launch's reader")
struct CredentialRecordTests {
    /// Every field set, none to its default: a key spelt differently on one side loses a field.
    static let full: Credential = {
        var credential = Credential(
            profile: "acme", refreshToken: SecretString("rt-full"), accessToken: SecretString("at-full"),
            idToken: SecretString("id-full"), clientSecret: SecretString("cs-full"), tokenType: "Bearer",
            scopes: ["mail.read", "offline_access"], expiresAt: 2_000_003_600, issuedAt: 2_000_000_000, state: .invalid,
            lastError: "the provider rejected the refresh token (invalid_grant)", updatedAt: 2_000_000_100)
        credential.clockSkew = -42
        credential.obtainedBy = "authorization_code"
        credential.requestedScopes = ["mail.read", "offline_access", "openid"]
        credential.grantedAt = 1_999_000_000
        credential.refreshedAt = 2_000_000_050
        credential.tokenEndpoint = "https://auth.acme.example/oauth/token"
        credential.clientID = "tokenrun-cli"
        return credential
    }()

    /// The member names in a sealed record, as vaults on disk hold them: changing one
    /// would make every stored credential unreadable.
    static let storedKeys: Set<String> = [
        "profile", "refresh_token", "access_token", "id_token", "client_secret", "token_type", "scopes", "expires_at",
        "issued_at", "state", "last_error", "updated_at", "clock_skew", "obtained_by", "requested_scopes", "granted_at",
        "refreshed_at", "token_endpoint", "client_id",
    ]

    @Test("the sample sets every stored property, and each has a key")
    func sampleIsFull() {
        let children = Mirror(reflecting: Self.full).children
        for child in children {
            let value = Mirror(reflecting: child.value)
            #expect(!(value.displayStyle == .optional && value.children.isEmpty), "\(child.label ?? "?") is nil")
            if let array = child.value as? [String] { #expect(!array.isEmpty, "\(child.label ?? "?") is empty") }
        }
        #expect(children.count == Self.storedKeys.count, "a property of Credential has no JSON key, or a key no property")
    }

    @Test("a credential with every field set comes back whole through the writer and the fast reader, under the stored keys")
    func roundTrip() throws {
        let sealed = try UnlockedVault.encode(Self.full)
        let value = try sealed.withUnsafeBytes { bytes throws(JSONReadError) in try JSONReader.parse(bytes) }
        #expect(Set(try JSONObjectReader(value).members.keys) == Self.storedKeys)
        #expect(try Credential(json: value) == Self.full)
    }

    @Test("the fast reader refuses a record without its required members, naming the member")
    func requiredMembers() throws {
        let written = try UnlockedVault.encode(Self.full).withUnsafeBytes { bytes throws(JSONReadError) in
            try JSONReader.parse(bytes)
        }
        for key in ["profile", "scopes", "state", "updated_at"] {
            var members = try #require(written.members)
            members[key] = nil
            #expect {
                _ = try Credential(json: .object(members))
            } throws: { error in
                (error as? JSONReadError)?.reason.contains(key) == true
            }
        }
    }
}
