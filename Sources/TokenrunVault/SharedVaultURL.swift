// Where a fleet's shared vault lives: TOKENRUN_VAULT_URL, else `[vault] url` in
// config.toml. A PostgreSQL URL as libpq reads it (postgres:// or
// postgresql://, its password, ?sslmode=…, ?service=… and the rest), handed to
// tokenrun-pg as it is, on its standard input only. It can hold a password, so
// it is only ever shown redacted (CredentialURL) and never reaches a child.
import TokenrunProfiles
import TokenrunSupport

/// A shared vault's connection URL.
public struct SharedVaultURL: Sendable, Equatable {
    /// The URL as given: may hold a password. Only for the helper's standard input.
    public let text: String

    /// The URL with its password shown as `***`: for messages, status and the audit trail.
    public var shown: String { CredentialURL.redacted(text) }

    public init(_ text: String) throws {
        if let problem = Self.problem(with: text) {
            throw TokenrunError.sharedVaultURLInvalid(url: CredentialURL.redacted(text), reason: problem)
        }
        self.text = text
    }

    /// Why `url` cannot name a shared vault, or nil.
    public static func problem(with url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") else {
            return "it is not a PostgreSQL URL (postgresql://… or postgres://…)"
        }
        if url.contains(where: { $0 == " " || $0.isNewline || ($0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false) }) {
            return "it contains spaces or control characters (percent-encode them: %20)"
        }
        return nil
    }

    /// The shared vault configured for this process, or nil for a vault of this host alone.
    /// TOKENRUN_VAULT_URL comes first (empty: none, whatever config.toml says).
    public static func configured(environment: [String: String], config: GlobalConfig?) throws -> SharedVaultURL? {
        if let given = environment["TOKENRUN_VAULT_URL"] {
            return given.isEmpty ? nil : try SharedVaultURL(given)
        }
        return try config?.vaultURL.map(SharedVaultURL.init)
    }

    /// The same, with config.toml read from `configPath` only when TOKENRUN_VAULT_URL is not set.
    /// `lenient`: a config.toml that cannot be used counts as naming no shared vault, as for
    /// `[network]`, unless it has a `[vault]` table: a host of a fleet never refreshes alone.
    public static func configured(environment: [String: String], configPath: String, lenient: Bool = false) throws -> SharedVaultURL? {
        guard environment["TOKENRUN_VAULT_URL"] == nil else { return try configured(environment: environment, config: nil) }
        let config: GlobalConfig?
        do {
            config = try GlobalConfig.load(path: configPath)
        } catch {
            guard lenient, !mentionsSharedVault(configPath) else { throw error }
            config = nil
        }
        return try configured(environment: environment, config: config)
    }

    /// Whether the file at `path` has a `[vault]` table (or a `vault.` key), read as plain text.
    static func mentionsSharedVault(_ path: String) -> Bool {
        guard let bytes = try? FileSystem.readFile(path, limit: 1 << 20) else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { line in
            let text = line.drop { $0 == " " || $0 == "\t" }
            return text.hasPrefix("[vault]") || text.hasPrefix("[ vault") || text.hasPrefix("vault.") || text.hasPrefix("vault =")
        }
    }

    /// `text` with this URL's secrets replaced by `***`.
    public func scrubbed(_ message: String) -> String { CredentialURL.scrubbed(message, of: text, userIsSecret: false) }
}
