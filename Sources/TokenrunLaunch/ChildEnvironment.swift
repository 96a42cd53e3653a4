// The child's environment: the inherited one, minus every key-source variable
// (TOKENRUN_KEY_FILE, TOKENRUN_PASSPHRASE, TOKENRUN_PASSPHRASE_FILE,
// CREDENTIALS_DIRECTORY), plus each profile's rendered [env], each [[file]]'s
// path, TOKENRUN_PROFILE and the expiry. Nothing else of the vault reaches the
// child: the refresh token only where a profile opted in.
import TokenrunRefresh
import TokenrunSupport

/// Builds the environment for a child.
public enum ChildEnvironment {
    /// `TOKENRUN_EXPIRES_AT_GMAIL` for profile "gmail".
    public static func expiryVariable(for profile: String) -> String {
        "TOKENRUN_EXPIRES_AT_" + String(profile.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The environment for a child of `rendered`, with `filePaths[profile][pathEnv]` already written.
    public static func build(
        inherited: [String: String], rendered: [RenderedInjection], filePaths: [String: [String: String]]
    ) throws -> [String: String] {
        // Markers of an outer tokenrun would describe the wrong tokens.
        var env = KeyVariables.removed(from: inherited).filter {
            $0.key != "TOKENRUN_PROFILE" && !$0.key.hasPrefix("TOKENRUN_EXPIRES_AT")
        }
        var earliest: Int64?
        // The client secret's variable is tokenrun's input, not the child's.
        for injection in rendered {
            if let variable = injection.profile.oauth.clientSecretEnv { env.removeValue(forKey: variable) }
        }
        for injection in rendered {
            let profile = injection.profile
            for (name, value) in try injection.variables() { env[name] = value }
            for (variable, path) in filePaths[profile.name] ?? [:] { env[variable] = path }
            if let expiresAt = injection.injection.credential.expiresAt {
                env[expiryVariable(for: profile.name)] = String(expiresAt)
                earliest = min(earliest ?? expiresAt, expiresAt)
            }
        }
        env["TOKENRUN_PROFILE"] = rendered.map(\.profile.name).joined(separator: ",")
        if let earliest { env["TOKENRUN_EXPIRES_AT"] = String(earliest) }
        return env
    }
}
