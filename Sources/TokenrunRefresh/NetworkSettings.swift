// config.toml's [network] table as a request uses it. A config.toml that cannot
// be used (malformed, or writable by another user) is not obeyed, as its
// on_reauth_required hook is not: the request goes on with the environment's
// proxy and CAs, and the problem is said (doctor's config.valid says it too).
import TokenrunProfiles
import TokenrunSupport

/// The `[network]` settings, and why config.toml could not supply them.
public struct NetworkSettings: Sendable, Equatable {
    public var config = NetworkConfig()
    /// Set when config.toml exists but was not used.
    public var problem: String?

    public init(config: NetworkConfig = NetworkConfig(), problem: String? = nil) {
        self.config = config
        self.problem = problem
    }

    public static func load(path: String) -> NetworkSettings {
        do {
            return NetworkSettings(config: try GlobalConfig.load(path: path).network)
        } catch {
            let reason = (error as? TokenrunError)?.summary ?? "\(error)"
            return NetworkSettings(problem: "\(path) is not used (its [network] proxy and ca_file neither): \(reason)")
        }
    }
}
