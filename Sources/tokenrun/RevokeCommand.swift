import ArgumentParser
import TokenrunKit

struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a profile's grant at the provider and delete it from the vault.",
        discussion: """
            The refresh token is revoked at the profile's oauth.revocation_endpoint \
            (RFC 7009) when it has one; then the local record is deleted. When the remote \
            revocation fails the local record is deleted anyway, and tokenrun says so \
            (exit 75 when the provider could not be reached, 78 when it refused). \
            Without a revocation endpoint, revoke the grant in the provider's account \
            settings as well.
            """
    )

    @Option(name: .shortAndLong, help: "The profile whose credential to revoke.", completion: ProfileCompletion.kind)
    var profile: String

    @Flag(help: "Only delete the local record; do not contact the provider.")
    var local = false

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let profile = try context.profiles.load(self.profile)
            guard try context.vault.summary() != nil else {
                Output.line("no credential is stored for \(profile.name); nothing to revoke")
                return
            }
            let vault = try context.vault.unlock(context.keys)
            guard let credential = try vault.credential(for: profile.name) else {
                Output.line("no credential is stored for \(profile.name); nothing to revoke")
                return
            }
            var remoteFailure: TokenrunError?
            var remote = "not contacted (--local)"
            if !local {
                // The grant's tokens go only to the issuer it is bound to; a mismatch keeps the record.
                try IssuerBinding.check(credential, profile: profile)
                if let url = profile.oauth.revocationEndpoint {
                    try IssuerBinding.checkRevocation(url, credential: credential, profile: profile)
                }
                (remote, remoteFailure) = revokeRemotely(credential, profile: profile, context: context)
            }
            try vault.remove(profile: profile.name)
            var record = AuditRecord(event: "revoke", profiles: [profile.name])
            record.outcome = remoteFailure == nil ? "ok" : "remote_failed"
            record.detail = remote
            context.record(record, vault: vault)
            if let remoteFailure { throw remoteFailure }
            Output.line("deleted the credential for \(profile.name); at the provider: \(remote)")
            if remote.hasPrefix("no revocation endpoint") || remote.hasPrefix("not contacted") || profile.kind == .apiKey {
                let page = ProviderQuirks.grantsPage(profile).map { " (\($0))" } ?? ""
                Diagnostics.notice("the grant may still be valid at the provider: withdraw it in the provider's account settings\(page)")
            }
        }
    }

    /// Revokes at the provider; returns what happened there and, on failure, the error to end with.
    func revokeRemotely(_ credential: Credential, profile: Profile, context: CommandContext) -> (String, TokenrunError?) {
        guard let url = profile.oauth.revocationEndpoint else {
            return ("no revocation endpoint in profile \(profile.name)", nil)
        }
        guard let token = credential.refreshToken ?? credential.accessToken, profile.kind == .oauth else {
            return ("nothing to revoke remotely", nil)
        }
        let hint = credential.refreshToken != nil ? "refresh_token" : "access_token"
        do {
            let client = try Refresher.clientCredentials(profile: profile, credential: credential, environment: context.environment)
            let limits = TransportLimits(environment: context.environment, network: context.networkConfig(), profile: profile)
            try Revocation.revoke(token, hint: hint, url: url, client: client, transport: context.tokens.transport(), limits: limits)
            return ("revoked at \(url)", nil)
        } catch let error as TokenEndpointError {
            return ("revocation failed", .revocationFailed(profile: profile.name, reason: error.explanation, transient: error.isTransient))
        } catch let error as TokenrunError {
            return ("revocation failed", .revocationFailed(profile: profile.name, reason: error.summary, transient: false))
        } catch {
            return ("revocation failed", .revocationFailed(profile: profile.name, reason: "\(error)", transient: false))
        }
    }
}
