// Credential checks: credential.NAME.state, .issuer, .expiry, .scopes and
// .refresh_token (the last in RefreshTokenHealth). They read the records
// doctor opened; nothing is refreshed or written.
import TokenrunProfiles
import TokenrunRefresh
import TokenrunSupport
import TokenrunVault

extension Doctor {
    /// The checks for one profile's credential; none when the vault could not be opened.
    func credentialChecks(_ name: String, profile: Profile?, vault: VaultInspection, now: Int64) -> [DoctorCheck] {
        let stateName = "credential.\(name).state"
        if !vault.exists {
            return [.fail(stateName, "not logged in: there is no vault yet", fix: "tokenrun login -p \(name)")]
        }
        guard let credentials = vault.credentials else { return [] }  // vault.readable or key.source says why
        guard let credential = credentials[name] else {
            return [.fail(stateName, "not logged in: no credential is stored for \(name)", fix: "tokenrun login -p \(name)")]
        }
        guard let profile else {
            if profiles.candidates(named: name).isEmpty {
                return [
                    .warn(
                        stateName, "a credential is stored, but no profile \(name) exists any more, so nothing uses it",
                        fix: "restore \(Paths.join(paths.userProfiles, name + ".toml")), or ignore it")
                ]
            }
            return [stateCheck(credential, name: name)]  // profiles.valid says what is wrong with the profile
        }
        return [
            stateCheck(credential, name: name), issuerCheck(credential, profile: profile),
            expiryCheck(credential, profile: profile, now: now), scopesCheck(credential, profile: profile),
            RefreshTokenHealth.check(profile: profile, credential: credential, now: now),
        ]
    }

    /// credential.NAME.issuer: the profile still names the endpoint and client the grant was issued for.
    func issuerCheck(_ credential: Credential, profile: Profile) -> DoctorCheck {
        let check = "credential.\(profile.name).issuer"
        guard profile.kind == .oauth else { return .pass(check, "an API key: no token endpoint") }
        guard let bound = credential.issuer else {
            return .pass(
                check, "not bound yet; the next refresh binds it to \(profile.oauth.tokenEndpoint ?? "the profile's token endpoint")")
        }
        do {
            try IssuerBinding.check(credential, profile: profile)
            return .pass(check, "issued by \(bound.tokenEndpoint), which the profile names")
        } catch let error as TokenrunError {
            return .fail(check, error.summary, fix: error.hints.last ?? "tokenrun login -p \(profile.name)")
        } catch {
            return .fail(check, "\(error)", fix: "tokenrun login -p \(profile.name)")
        }
    }

    /// credential.NAME.state: connected, expired (transient) or invalid (needs a login).
    func stateCheck(_ credential: Credential, name: String) -> DoctorCheck {
        let check = "credential.\(name).state"
        let detail = credential.lastError.map { ": \($0)" } ?? ""
        switch credential.state {
        case .connected:
            return .pass(check, "connected")
        case .expired:
            return .warn(
                check, "expired: the last refresh failed for a passing reason\(detail); the next run tries again",
                fix: "tokenrun get -p \(name) --field status (exit 75 means the provider is still unreachable: retry later)")
        case .invalid:
            return .fail(
                check, "invalid: the refresh token was rejected\(detail); retrying will not help", fix: "tokenrun login -p \(name)")
        }
    }

    /// credential.NAME.expiry: the access token's time left, and whether it can be renewed.
    func expiryCheck(_ credential: Credential, profile: Profile, now: Int64) -> DoctorCheck {
        let check = "credential.\(profile.name).expiry"
        if profile.kind == .apiKey {
            return credential.accessToken == nil
                ? .fail(check, "no API key is stored", fix: "tokenrun login -p \(profile.name)")
                : .pass(check, "an API key: it does not expire here")
        }
        let renewable = credential.refreshToken != nil || profile.grantType == .clientCredentials
        let renewal = profile.grantType == .clientCredentials ? "a new one is fetched with the client's credentials" : "it is refreshed"
        guard credential.accessToken != nil, let expiresAt = credential.expiresAt else {
            if credential.accessToken != nil { return .pass(check, "an access token with no known expiry") }
            return renewable
                ? .pass(check, "no access token yet; the next run gets one")
                : .fail(check, "no access token and no refresh token", fix: "tokenrun login -p \(profile.name)")
        }
        let until = Timestamp.iso8601(expiresAt)
        if expiresAt > now {
            return .pass(check, "access token valid for \(Self.coarse(expiresAt - now)) more (until \(until)); then \(renewal)")
        }
        if renewable {
            return .pass(
                check,
                "access token expired \(Self.coarse(now - expiresAt)) ago (normal); the next run \(renewal == "it is refreshed" ? "refreshes it" : "fetches a new one")"
            )
        }
        return .fail(
            check, "access token expired \(Self.coarse(now - expiresAt)) ago and there is no refresh token to renew it",
            fix: "tokenrun login -p \(profile.name) --force")
    }

    /// credential.NAME.scopes: the grant covers every scope the profile asks for.
    func scopesCheck(_ credential: Credential, profile: Profile) -> DoctorCheck {
        let check = "credential.\(profile.name).scopes"
        if profile.kind == .apiKey { return .pass(check, "an API key has no scopes") }
        let missing = profile.scopesMissing(from: credential)
        if !missing.isEmpty {
            return .fail(
                check,
                "the stored grant lacks \(missing.joined(separator: " ")), which the profile asks for (added after the login?): requests needing them will be refused",
                fix: "tokenrun login -p \(profile.name) --force")
        }
        if credential.scopes.isEmpty && (credential.requestedScopes ?? []).isEmpty {
            return .pass(check, "the grant's scopes are not known yet (an imported token); the next refresh records them")
        }
        if profile.oauth.scopes.isEmpty { return .pass(check, "the profile asks for no particular scopes") }
        return .pass(check, "the grant covers \(profile.oauth.scopes.joined(separator: " "))")
    }
}
