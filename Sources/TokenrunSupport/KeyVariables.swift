// The environment variables that select or carry the vault key, and the
// shared vault's URL (which can hold a database password). Every program
// tokenrun starts (the child, the network helper, the browser, the re-auth
// hook) gets an environment without them, and a profile may not set them.

/// The variables that select or carry key material.
public enum KeyVariables {
    public static let names = [
        "TOKENRUN_KEY_FILE", "TOKENRUN_PASSPHRASE", "TOKENRUN_PASSPHRASE_FILE", "CREDENTIALS_DIRECTORY", "TOKENRUN_VAULT_URL",
    ]

    /// `environment` without any variable that selects or carries key material.
    public static func removed(from environment: [String: String]) -> [String: String] {
        environment.filter { !names.contains($0.key) }
    }
}
