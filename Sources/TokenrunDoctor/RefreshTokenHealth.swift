// credential.NAME.refresh_token: how close a refresh token is to a provider's
// known limit (ProviderQuirks.refreshTokenLimits), from its age (`grantedAt`)
// and its last successful use (`refreshedAt`). Providers do not say when they
// drop a refresh token, so this warns ahead: within 15 % of a limit, or past
// it, re-consent is likely. Pure: the clock is a parameter.
import TokenrunProfiles
import TokenrunVault

/// The health of a stored refresh token.
public enum RefreshTokenHealth {
    /// Warn once this fraction of a limit has passed.
    public static let warnFraction = 0.85

    public static func check(profile: Profile, credential: Credential, now: Int64) -> DoctorCheck {
        let name = "credential.\(profile.name).refresh_token"
        if profile.kind == .apiKey { return .pass(name, "an API key: nothing to refresh") }
        if profile.grantType == .clientCredentials {
            return .pass(name, "client credentials: nothing to refresh; each token is fetched with the client's own credentials")
        }
        guard credential.refreshToken != nil else {
            return .fail(
                name, "no refresh token is stored: once the access token expires, a new login is needed",
                fix: "\(ProviderQuirks.missingRefreshTokenFix(profile)), then: tokenrun login -p \(profile.name) --force")
        }
        if credential.state == .invalid {
            return .fail(name, "dead: the provider rejected it", fix: "tokenrun login -p \(profile.name)")
        }

        let age = credential.grantedAt.map { now - $0 }
        let lastUse = credential.refreshedAt ?? credential.grantedAt
        let idle = lastUse.map { now - $0 }
        var facts: [String] = []
        if let age { facts.append("granted \(Doctor.coarse(age)) ago") } else { facts.append("age unknown") }
        if let refreshed = credential.refreshedAt {
            facts.append("last refreshed \(Doctor.coarse(now - refreshed)) ago")
        } else {
            facts.append("not refreshed since")
        }
        let history = facts.joined(separator: ", ")

        // The limit nearest to its end, as a fraction of it used up.
        var worst: (limit: ProviderQuirks.Limit, elapsed: Int64, used: Double)?
        for limit in ProviderQuirks.refreshTokenLimits(profile) {
            guard let elapsed = limit.fromLastUse ? idle : age, limit.seconds > 0 else { continue }
            let used = Double(elapsed) / Double(limit.seconds)
            if worst == nil || used > worst!.used { worst = (limit, elapsed, used) }
        }
        guard let worst, worst.used >= warnFraction else {
            let limits = ProviderQuirks.refreshTokenLimits(profile)
            if limits.isEmpty { return .pass(name, "\(history); no known lifetime limit for this provider") }
            return .pass(name, "\(history); within the provider's known limits")
        }
        let limit = worst.limit
        let measured = limit.fromLastUse ? "unused for \(Doctor.coarse(worst.elapsed))" : "\(Doctor.coarse(worst.elapsed)) old"
        let fix: String
        if limit.fromLastUse {
            fix =
                worst.used >= 1
                ? "tokenrun login -p \(profile.name) --force"
                : "use it before then; a refresh resets the clock: tokenrun get -p \(profile.name) --field status --refresh"
        } else if KnownProvider.of(profile) == .google {
            fix =
                "publish the Google app (Cloud console, OAuth consent screen: In production), or log in again when it fails: tokenrun login -p \(profile.name) --force"
        } else {
            fix = "plan a new login: tokenrun login -p \(profile.name) --force"
        }
        if worst.used >= 1 {
            return .warn(name, "\(history): \(limit.text), and this one is \(measured): re-consent is likely", fix: fix)
        }
        let left = Doctor.coarse(limit.seconds - worst.elapsed)
        return .warn(name, "\(history): \(limit.text); this one is \(measured), \(left) short of it: re-consent is likely soon", fix: fix)
    }
}
