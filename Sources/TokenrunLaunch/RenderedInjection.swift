// A profile's templates rendered for one credential, once: every consumer of
// a launch's values — the child's environment, its [[file]]s, `export`,
// `get` and the credential socket — reads them from here, so they cannot
// disagree about what a template means.
import TokenrunProfiles
import TokenrunRefresh
import TokenrunSupport

/// One injection with its template values computed.
public struct RenderedInjection: Sendable {
    public let injection: Injection
    /// What the templates may use: access_token, token_type, expires_in, xoauth2 and the rest.
    public let values: [String: String]

    public init(_ injection: Injection, now: Int64) {
        self.injection = injection
        values = TemplateValues.values(profile: injection.profile, credential: injection.credential, now: now)
    }

    public var profile: Profile { injection.profile }

    /// The profile's [env], rendered; a value with a NUL byte cannot reach a child and is refused.
    public func variables() throws -> [(name: String, value: String)] {
        try profile.env.map { binding in
            let value = binding.template.render(values)
            if value.utf8.contains(0) { throw TokenrunError.unsafeEnvironmentValue(variable: binding.name, profile: profile.name) }
            return (binding.name, value)
        }
    }

    /// The profile's [[file]]s with their contents.
    public func files() -> [(file: RenderedFile, contents: String)] {
        RenderedFile.files(of: profile).map { ($0, $0.template.render(values)) }
    }

    /// What `tokenrun export` prints: the [env] variables, then TOKENRUN_PROFILE and TOKENRUN_EXPIRES_AT.
    public func exported() throws -> [(name: String, value: String)] {
        var variables = try variables()
        variables.append(("TOKENRUN_PROFILE", profile.name))
        if let expiresAt = injection.credential.expiresAt { variables.append(("TOKENRUN_EXPIRES_AT", String(expiresAt))) }
        return variables
    }
}
