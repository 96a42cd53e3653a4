// The read path shared by run, get and export: resolve the profiles, unlock the
// vault, and get a usable access token for each (refreshing through the
// single-flight Refresher), recording refreshes in the audit trail under the
// vault's audit key, which the result hands on for the caller's own records.
import TokenrunAudit
import TokenrunOAuth
import TokenrunProfiles
import TokenrunSupport
import TokenrunVault

/// Usable credentials for a set of profiles.
public struct TokenService: Sendable {
    public let profiles: ProfileStore
    public let vault: SealedVault
    public let keys: KeyEnvironment
    public let audit: AuditTrail
    public var transport: @Sendable () -> any HTTPTransport
    /// config.toml's `[network]` table; read only when a request is made, never on the warm path.
    public var network: @Sendable () -> NetworkSettings

    public init(profiles: ProfileStore, vault: SealedVault, keys: KeyEnvironment, audit: AuditTrail) {
        self.profiles = profiles
        self.vault = vault
        self.keys = keys
        self.audit = audit
        let variables = keys.variables
        transport = { HelperProcessTransport(helperPath: HelperProcessTransport.locate(environment: variables), environment: variables) }
        let config = keys.paths.globalConfig
        network = { NetworkSettings.load(path: config) }
    }

    /// The result for one launch: what to inject, and warnings for stderr.
    public struct Result: Sendable {
        public var injections: [Injection]
        public var warnings: [String]
        public var outcomes: [String: RefreshOutcome]
        /// How the vault was sealed ("a key file", "a passphrase"), for --verbose.
        public var sealedWith = ""
        /// The key that chains the audit trail, for the records the caller appends.
        public var auditKey: AuditKey
    }

    /// Loads every profile first (so a typo fails before any network), then refreshes each as needed.
    public func usable(_ names: [String], minTTL: Int64?, force: Bool = false) throws -> Result {
        try session(names).usable(minTTL: minTTL, force: force)
    }

    /// The profiles loaded and the vault unlocked, ready to refresh — once, or again and
    /// again for a long-running child (the key is not asked for twice).
    public func session(_ names: [String]) throws -> Session {
        let loaded = try names.map { try profiles.load($0) }
        let unlocked: UnlockedVault
        do {
            unlocked = try vault.unlock(keys, prefetching: names)
        } catch TokenrunError.vaultNotFound {
            throw TokenrunError.notLoggedIn(profile: names[0])
        }
        let auditKey = try unlocked.auditKey()
        var refresher = Refresher(vault: unlocked, transport: transport)
        refresher.environment = keys.variables
        refresher.network = network
        let trail = audit
        refresher.onAttempt = { attempt in
            var record = AuditRecord(event: "refresh", profiles: [attempt.profile])
            record.outcome = attempt.outcome
            record.errorClass = attempt.errorClass
            record.latencyMs = attempt.latencyMs
            record.rotated = attempt.rotated
            record.attempts = attempt.attempts
            record.httpStatus = attempt.httpStatus
            _ = try? trail.append(record, key: auditKey)
        }
        let variables = keys.variables
        let paths = keys.paths
        refresher.onInvalidated = { profile, reason in
            Self.fireReauthHook(
                profile: profile, reason: reason, environment: variables, paths: paths, audit: trail, auditKey: auditKey)
        }
        return Session(profiles: loaded, refresher: refresher, sealedWith: unlocked.keySource.phrase, auditKey: auditKey)
    }

    /// Unlocked state for a set of profiles.
    public struct Session: Sendable {
        public let profiles: [Profile]
        public let refresher: Refresher
        let sealedWith: String
        /// The key that chains the audit trail.
        public let auditKey: AuditKey

        /// A usable credential for every profile (refreshing each as its policy says).
        public func usable(minTTL: Int64?, force: Bool = false) throws -> Result {
            var result = Result(injections: [], warnings: [], outcomes: [:], sealedWith: sealedWith, auditKey: auditKey)
            for profile in profiles {
                let (credential, outcome, warnings) = try usable(profile, minTTL: minTTL, force: force)
                result.injections.append(Injection(profile: profile, credential: credential))
                result.warnings += warnings
                result.outcomes[profile.name] = outcome
            }
            return result
        }

        /// A usable credential for one profile; while it refreshes, signals that would end
        /// tokenrun wait until the vault is written (Refresher).
        public func usable(_ profile: Profile, minTTL: Int64?, force: Bool = false) throws -> (Credential, RefreshOutcome, [String]) {
            let policy = RefreshPolicy(window: profile.refreshWindow, minTTL: minTTL, force: force)
            // Network helpers are reaped once the tokens they brought are in the vault.
            defer { HelperProcessTransport.reapAnswered() }
            return try refresher.usableCredential(for: profile, policy: policy)
        }
    }

    /// Runs the profile's on_reauth_required hook, if any, and records it.
    static func fireReauthHook(
        profile: Profile, reason: String, environment: [String: String], paths: Paths, audit: AuditTrail, auditKey: AuditKey
    ) {
        var record = AuditRecord(event: "reauth_hook", profiles: [profile.name])
        let command: String?
        do {
            command = try ReauthHook.command(for: profile, paths: paths)
        } catch {
            record.outcome = "failed"
            record.detail = (error as? TokenrunError)?.summary ?? "cannot read the configuration"
            _ = try? audit.append(record, key: auditKey)
            return
        }
        guard let command else { return }
        let outcome = ReauthHook.run(command, environment: ReauthHook.environment(base: environment, profile: profile.name, reason: reason))
        switch outcome {
        case .exited(let code):
            record.outcome = code == 0 ? "ok" : "failed"
            record.status = code
        case .signaled(let signal):
            record.outcome = "failed"
            record.signal = signal
        case .stillRunning:
            record.outcome = "running"
            record.detail = "still running after \(ReauthHook.waitSeconds) s; left to finish"
        case .couldNotStart(let why):
            record.outcome = "failed"
            record.detail = "cannot run /bin/sh: \(why)"
        }
        _ = try? audit.append(record, key: auditKey)
    }
}
