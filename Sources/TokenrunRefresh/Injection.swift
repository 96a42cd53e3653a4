// What a launch injects: each profile with its fresh credential, as the token
// service hands them to the launcher.
import TokenrunProfiles
import TokenrunVault

/// One profile ready for injection.
public struct Injection: Sendable {
    public let profile: Profile
    public let credential: Credential

    public init(profile: Profile, credential: Credential) {
        self.profile = profile
        self.credential = credential
    }
}
