// config.toml's [network] table as a request uses it. A config.toml that cannot
// be used (malformed, or writable by another user) is not obeyed, as its
// on_reauth_required hook is not: the request goes on with the environment's
// proxy and CAs, and the problem is said (doctor's config.valid says it too).
import TokenrunOAuth
import TokenrunProfiles
import TokenrunSupport

/// The `[network]` settings, and why config.toml could not supply them.
public struct NetworkSettings: Sendable, Equatable {
    public var config = NetworkConfig()
    /// Set when config.toml exists but was not used, or holds a proxy password others can read.
    public var problem: String?

    public init(config: NetworkConfig = NetworkConfig(), problem: String? = nil) {
        self.config = config
        self.problem = problem
    }

    public static func load(path: String) -> NetworkSettings {
        do {
            var settings = NetworkSettings(config: try GlobalConfig.load(path: path).network)
            // Used all the same (ssh warns likewise about a readable key it still uses): the fix is a chmod.
            if let proxy = settings.config.proxy, NetworkRoute.redacted(proxy) != proxy,
                let status = try? FileSystem.status(path), status.mode & 0o044 != 0
            {
                settings.problem =
                    "\(path) holds a proxy password and other users can read it (mode \(TokenrunError.octal(status.mode))): chmod 600 \(TokenrunError.shellQuoted(path))"
            }
            return settings
        } catch {
            let reason = (error as? TokenrunError)?.summary ?? "\(error)"
            return NetworkSettings(problem: "\(path) is not used (its [network] proxy and ca_file neither): \(reason)")
        }
    }
}
