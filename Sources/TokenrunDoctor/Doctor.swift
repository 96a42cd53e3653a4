// `tokenrun doctor`: named checks of everything a launch depends on, each with
// pass, warn or fail and a one-line fix. Policy:
// - Doctor only reads. It never writes, moves or locks the vault, never
//   refreshes a token, never removes a leftover directory, and never asks for
//   a passphrase (a vault it cannot open without asking is reported as such).
// - The network is touched only by the endpoint probe (EndpointProbe), for
//   profiles with a stored credential or named with -p, and by the fleet check
//   (one connection to the shared vault, reads only), and not when offline.
// - No message or fix holds a secret: names, paths, URLs, states, durations.
// - The library returns the checks; the executable prints them.
import TokenrunOAuth
import TokenrunProfiles
import TokenrunSupport
import TokenrunVault

/// Runs doctor's checks for one environment.
public struct Doctor: Sendable {
    public var environment: [String: String]
    public var paths: Paths
    public var profiles: ProfileStore
    /// Profiles named with -p, in order; empty means every stored credential.
    public var requested: [String] = []
    /// Skip the checks that contact a token endpoint.
    public var offline = false
    /// Whether a terminal exists on which tokenrun could ask for a passphrase.
    public var hasTerminal = false
    /// Made only when a probe is sent.
    public var transport: @Sendable () -> any HTTPTransport
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }

    public init(environment: [String: String], profiles: ProfileStore, transport: @escaping @Sendable () -> any HTTPTransport) {
        self.environment = environment
        self.paths = Paths(environment: environment)
        self.profiles = profiles
        self.transport = transport
    }

    /// Key sources without the terminal prompt: doctor never asks.
    var keys: KeyEnvironment { KeyEnvironment(variables: environment, prompt: nil) }

    /// Every check, in a fixed order: vault and key, profiles, then each profile's
    /// quirks, credential and endpoint, then leftover files.
    public func run() -> [DoctorCheck] {
        let now = clock()
        let vault = inspectVault()
        var checks = vault.checks
        if let shared = sharedVaultCheck(localHeaderLine: vault.headerLine) { checks.append(shared) }
        checks += profileFileChecks()
        if let config = globalConfigCheck() { checks.append(config) }

        let stored = vault.storedProfiles
        let credentialNames = requested.isEmpty ? stored : requested
        var subjects = credentialNames
        if requested.isEmpty {
            let own = profiles.effectiveCandidates().filter { !$0.isBuiltin }.map(\.name)
            subjects = Array(Set(subjects).union(own)).sorted()
        }
        var probes: [String: EndpointProbe.Outcome] = [:]
        for name in subjects {
            let profile = try? profiles.load(name)
            if let profile { checks.append(quirksCheck(profile)) }
            if credentialNames.contains(name) {
                checks += credentialChecks(name, profile: profile, vault: vault, now: now)
                if !offline, let profile {
                    checks += endpointChecks(profile, cache: &probes)
                }
            }
        }
        checks.append(leftoversCheck())
        return checks
    }

    /// "3d", "5h", "12m", "40s": the largest unit only, for ages and time left.
    static func coarse(_ seconds: Int64) -> String {
        let value = max(0, seconds)
        if value >= 86400 { return "\(value / 86400)d" }
        if value >= 3600 { return "\(value / 3600)h" }
        if value >= 60 { return "\(value / 60)m" }
        return "\(value)s"
    }
}
