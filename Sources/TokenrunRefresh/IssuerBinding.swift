// A refresh token is a long-lived secret: it goes only to the endpoint that
// issued it. A credential records, sealed with it, the token endpoint and
// client id of its grant (login and import bind it; a record written before
// binding existed is bound by its next successful refresh). Every use of a
// bound credential whose profile names another endpoint or client stops with
// exit 78 before any request: the profile may come from somewhere the user
// did not mean (a repository's TOKENRUN_PROFILE_PATH), or the change may be
// intended, and then a login to the new endpoint says so.
import TokenrunProfiles
import TokenrunSupport
import TokenrunVault

/// Checks that a profile still names the issuer its stored credential was bound to.
public enum IssuerBinding {
    /// The issuer `profile` would send a refresh token to; nil for a profile without a token endpoint.
    public static func issuer(of profile: Profile) -> CredentialIssuer? {
        CredentialIssuer(of: profile)
    }

    /// Throws `issuerMismatch` unless `credential` is unbound or bound to `profile`'s endpoint and client.
    public static func check(_ credential: Credential, profile: Profile) throws {
        guard profile.kind == .oauth, let bound = credential.issuer else { return }
        let named = issuer(of: profile)
        guard named != bound else { return }
        throw TokenrunError.issuerMismatch(
            profile: profile.name, boundEndpoint: bound.tokenEndpoint, boundClientID: bound.clientID,
            endpoint: profile.oauth.tokenEndpoint, clientID: profile.oauth.clientID)
    }

    /// Throws unless `url`, where `revoke` would send the refresh token, is on the same
    /// origin (scheme, host and port) as the token endpoint the credential is bound to.
    public static func checkRevocation(_ url: String, credential: Credential, profile: Profile) throws {
        guard let bound = credential.issuer, origin(of: url) != origin(of: bound.tokenEndpoint) else { return }
        throw TokenrunError.revocationElsewhere(profile: profile.name, revocationEndpoint: url, boundEndpoint: bound.tokenEndpoint)
    }

    /// `scheme://host[:port]`, lowercased.
    static func origin(of url: String) -> String {
        guard let separator = url.firstRange(of: "://") else { return url.lowercased() }
        let authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return (url[..<separator.upperBound] + authority).lowercased()
    }

    /// `credential` bound to `profile`'s issuer when it was not bound yet.
    public static func bindingIfUnbound(_ credential: Credential, profile: Profile) -> Credential {
        guard credential.issuer == nil, profile.kind == .oauth, let issuer = issuer(of: profile) else { return credential }
        var bound = credential
        bound.bind(to: issuer)
        return bound
    }
}
