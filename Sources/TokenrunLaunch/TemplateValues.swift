import TokenrunProfiles
import TokenrunVault
import TokenrunSodium
import TokenrunSupport

/// The values a profile's templates may use, for one credential.
public enum TemplateValues {
    public static func values(profile: Profile, credential: Credential, now: Int64) -> [String: String] {
        var values: [String: String] = [:]
        let token = credential.accessToken?.value ?? ""
        values["access_token"] = token
        values["token_type"] = credential.tokenType ?? "Bearer"
        if let expiresAt = credential.expiresAt {
            values["expires_at"] = String(expiresAt)
            values["expires_in"] = String(max(0, expiresAt - now))
        }
        values["scope"] = Text.join(credential.scopes.isEmpty ? profile.oauth.scopes : credential.scopes, " ")
        values["id_token"] = credential.idToken?.value ?? ""
        values["client_id"] = profile.oauth.clientID ?? ""
        values["username"] = profile.username ?? ""
        values["xoauth2"] = xoauth2(username: profile.username ?? "", token: token)
        if profile.exposeRefreshToken { values[Template.refreshTokenVariable] = credential.refreshToken?.value ?? "" }
        return values
    }

    /// The SASL XOAUTH2 initial response: base64("user=" USER ^A "auth=Bearer " TOKEN ^A ^A).
    public static func xoauth2(username: String, token: String) -> String {
        Base64.encode(Array("user=\(username)\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8))
    }
}
