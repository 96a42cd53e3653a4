// The on_reauth_required hook: when a credential turns invalid,
// the profile's (or the global configuration's) command runs once, through
// /bin/sh -c, so that an unattended failure reaches a person. It gets the
// profile name, the reason and the command that recovers — never a token —
// and none of the key-source variables; it runs in a session keyring of its
// own, so no key `vault unlock` cached is within its reach. Its output goes to
// tokenrun's stderr, so it never mixes with `get`'s token on stdout. tokenrun
// waits for it a bounded time; a hook that hangs is left running.
import TokenrunProfiles
import TokenrunSupport
#if canImport(Glibc)
    import Glibc
#endif

/// Runs the re-authentication hook.
public enum ReauthHook {
    /// How long tokenrun waits for the hook before leaving it to finish alone.
    public static let waitSeconds = 30

    /// How the hook ended.
    public enum Outcome: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        case stillRunning
        case couldNotStart(String)
    }

    /// The hook's command: the profile's, else the global configuration's.
    public static func command(for profile: Profile, paths: Paths) throws -> String? {
        if let own = profile.onReauthRequired { return own }
        return try GlobalConfig.load(path: paths.globalConfig).onReauthRequired
    }

    /// The hook's environment: the caller's minus key sources, plus what happened.
    public static func environment(base: [String: String], profile: String, reason: String) -> [String: String] {
        var environment = KeyVariables.removed(from: base)
        environment["TOKENRUN_PROFILE"] = profile
        environment["TOKENRUN_REAUTH_REASON"] = reason
        environment["TOKENRUN_REAUTH_COMMAND"] = "tokenrun login -p \(profile)"
        return environment
    }

    /// Runs `command` with `environment` and waits up to `waitSeconds`.
    public static func run(_ command: String, environment: [String: String]) -> Outcome {
        let pid: pid_t
        do {
            pid = try ChildProcess.spawnForUser(["/bin/sh", "-c", command], environment: environment, stdio: [.null, .copy(2), .inherit])
        } catch {
            return .couldNotStart(error.reason)
        }
        for _ in 0..<(waitSeconds * 20) {
            switch ChildProcess.reap(pid) {
            case .exited(let code)?: return .exited(code)
            case .signaled(let signal)?: return .signaled(signal)
            case nil: usleep(50_000)
            }
        }
        return .stillRunning
    }
}
