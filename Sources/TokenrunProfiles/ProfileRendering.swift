// Renders a resolved profile back as TOML for `profiles show`. The client
// secret is never printed: only whether one is set and where it comes from.
import TokenrunSupport

/// Text forms of a resolved profile.
public enum ProfileRendering {
    public static func toml(_ profile: Profile) -> String {
        var lines = ["# profile \(profile.name), from \(profile.source)"]
        if profile.chain.count > 1 { lines.append("# extends: \(profile.chain.dropFirst().joined(separator: " -> "))") }
        if let v = profile.description { lines.append("description = \(quote(v))") }
        if let v = profile.username { lines.append("username = \(quote(v))") }
        if profile.kind != .oauth { lines.append("kind = \(quote(profile.kind.rawValue))") }
        if profile.exposeRefreshToken { lines.append("expose_refresh_token = true") }
        if !profile.execInPlace { lines.append("exec = false") }
        if let v = profile.onReauthRequired { lines.append("on_reauth_required = \(quote(v))") }
        lines.append("")
        lines.append("[oauth]")
        let o = profile.oauth
        for (key, value) in [
            ("token_endpoint", o.tokenEndpoint), ("authorization_endpoint", o.authorizationEndpoint),
            ("device_authorization_endpoint", o.deviceAuthorizationEndpoint),
            ("revocation_endpoint", o.revocationEndpoint), ("client_id", o.clientID),
            ("client_secret_env", o.clientSecretEnv), ("auth_method", o.authMethod?.rawValue),
            ("grant_type", o.grantType?.rawValue), ("redirect_host", o.redirectHost), ("ca_file", o.caFile),
        ] {
            if let value { lines.append("\(key) = \(quote(value))") }
        }
        if o.clientSecret != nil { lines.append("client_secret = \"********\"  # set in the profile; hidden") }
        if o.clientID == nil { lines.append("# client_id is not set: add it in your own profile that extends this one") }
        if let port = o.redirectPort { lines.append("redirect_port = \(port)") }
        lines.append("scopes = [\(o.scopes.map(quote).joined(separator: ", "))]")
        if !o.authorizationParams.isEmpty {
            lines.append("")
            lines.append("[oauth.authorization_params]")
            for key in o.authorizationParams.keys.sorted() { lines.append("\(key) = \(quote(o.authorizationParams[key]!))") }
        }
        lines.append("")
        lines.append("[refresh]")
        lines.append("window = \(quote(DurationParser.format(profile.refreshWindow)))")
        if let signal = profile.onRefreshSignal { lines.append("on_refresh_signal = \(quote(signal))") }
        if profile.serveTokens { lines.append("serve = true") }
        if !profile.env.isEmpty {
            lines.append("")
            lines.append("[env]")
            for binding in profile.env { lines.append("\(binding.name) = \(quote(binding.template.source))") }
        }
        for file in profile.files {
            lines.append("")
            lines.append("[[file]]")
            lines.append("path_env = \(quote(file.pathEnv))")
            lines.append("template = \(quote(file.template.source))")
            if let name = file.name { lines.append("name = \(quote(name))") }
        }
        return lines.joined(separator: "\n")
    }

    /// A TOML basic string.
    static func quote(_ text: String) -> String { Quoting.toml(text) }
}
