// The optional global configuration, $XDG_CONFIG_HOME/tokenrun/config.toml:
// settings that apply to every profile unless the profile sets its own. Read
// only when needed (never on the warm path). Unknown keys are errors, as in
// profiles. It names a command to run, so it is trusted as a profile is: a file
// or directory that another user could write is refused (TrustedFile).
import TokenrunSupport

/// Settings for all profiles.
public struct GlobalConfig: Sendable, Equatable {
    public static let keys = ["on_reauth_required", "network", "vault"]

    /// The command run when a credential becomes invalid, for profiles that name none.
    public var onReauthRequired: String?
    /// The `[network]` table: proxy and trusted CAs.
    public var network: NetworkConfig
    /// `[vault] url`: a fleet's shared vault (TOKENRUN_VAULT_URL comes first).
    public var vaultURL: String?

    public init(onReauthRequired: String? = nil, network: NetworkConfig = NetworkConfig(), vaultURL: String? = nil) {
        self.onReauthRequired = onReauthRequired
        self.network = network
        self.vaultURL = vaultURL
    }

    /// Reads `path`; a missing file is an empty configuration.
    public static func load(path: String) throws -> GlobalConfig {
        let bytes: [UInt8]
        do {
            guard let read = try TrustedFile.read(path, limit: ProfileParser.sizeLimit, what: "the configuration file") else {
                return GlobalConfig()
            }
            bytes = read
        } catch let error as SystemCallError {
            throw TokenrunError.fileSystem(error, what: "the configuration file")
        }
        return try parse(bytes: bytes, file: path)
    }

    static func parse(bytes: [UInt8], file: String) throws -> GlobalConfig {
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(bytes: bytes, document: "config.toml")
        } catch {
            throw TokenrunError.profileInvalid(
                ProfileDiagnostic(file: file, line: error.line, message: error.diagnosticMessage))
        }
        var config = GlobalConfig()
        for entry in table.entries {
            try checkKey(entry, among: keys, prefix: "", file: file)
            if entry.key == "network" {
                guard case .table(let network) = entry.value else {
                    throw TokenrunError.profileInvalid(
                        ProfileDiagnostic(file: file, line: entry.line, message: "network must be a table: [network]"))
                }
                config.network = try NetworkConfig.parse(network, file: file)
                continue
            }
            if entry.key == "vault" {
                guard case .table(let vault) = entry.value else {
                    throw TokenrunError.profileInvalid(
                        ProfileDiagnostic(file: file, line: entry.line, message: "vault must be a table: [vault]"))
                }
                for item in vault.entries {
                    try checkKey(item, among: ["url"], prefix: "vault.", file: file)
                    guard case .string(let url) = item.value, !url.isEmpty else {
                        throw TokenrunError.profileInvalid(
                            ProfileDiagnostic(
                                file: file, line: item.line, message: "vault.url must be a non-empty string (postgresql://…)"))
                    }
                    config.vaultURL = url
                }
                continue
            }
            guard case .string(let command) = entry.value, !command.allSatisfy(\.isWhitespace) else {
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(
                        file: file, line: entry.line, message: "on_reauth_required must be a non-empty string (a shell command)"))
            }
            config.onReauthRequired = command
        }
        return config
    }

    /// An unknown key is an error naming its line and the nearest known key.
    static func checkKey(_ entry: TOMLTable.Entry, among keys: [String], prefix: String, file: String) throws {
        guard !keys.contains(entry.key) else { return }
        throw TokenrunError.profileInvalid(
            ProfileDiagnostic(
                file: file, line: entry.line, message: "unknown key \"\(prefix)\(entry.key)\"",
                hint: Suggestion.hint(for: entry.key, in: keys, noun: "key")))
    }
}
