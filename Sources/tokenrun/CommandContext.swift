import TokenrunKit

/// What every subcommand needs from the process: environment, paths, profiles, vault.
struct CommandContext {
    let environment: [String: String]
    let paths: Paths
    let keys: KeyEnvironment
    let profiles: ProfileStore
    let vault: SealedVault

    init() {
        environment = ProcessEnvironment.current()
        paths = Paths(environment: environment)
        keys = KeyEnvironment(variables: environment, prompt: Terminal.passphrasePrompt())
        profiles = ProfileStore(environment: environment)
        for warning in profiles.warnings { Diagnostics.warning(warning) }
        // A fleet's shared vault is looked up only when a refresh lease or a write needs it. A
        // config.toml that cannot be used is not obeyed, as for [network] (a refresh says so),
        // unless it names a shared vault: then the refresh stops rather than go on alone.
        let (environment, paths) = (environment, paths)
        vault = SealedVault(
            storage: FleetVaultStorage(local: FileVaultStorage(path: paths.vault), environment: environment) {
                try SharedVaultURL.configured(environment: environment, configPath: paths.globalConfig, lenient: true)
            })
    }

    var now: Int64 { ProcessEnvironment.now() }

    var audit: AuditTrail { AuditTrail(paths: paths, environment: environment) }

    var tokens: TokenService { TokenService(profiles: profiles, vault: vault, keys: keys, audit: audit) }

    /// config.toml's `[network]` table for a request; a config.toml that cannot be used is said on stderr and not obeyed.
    func networkConfig() -> NetworkConfig {
        let settings = tokens.network()
        if let problem = settings.problem { Diagnostics.warning(problem) }
        return settings.config
    }

    /// Writes audit records chained under `key`; a failure is a warning, never a failed launch.
    func auditWriter(key: AuditKey) -> AuditWriter {
        AuditWriter(trail: audit, key: key) { Diagnostics.warning($0) }
    }

    /// Appends one record (see `auditWriter`).
    func record(_ record: AuditRecord, key: AuditKey) {
        auditWriter(key: key).record(record)
    }

    func record(_ record: AuditRecord, vault: UnlockedVault) {
        let key: AuditKey
        do {
            key = try vault.auditKey()
        } catch {
            Diagnostics.warning("audit trail not written: \((error as? TokenrunError)?.summary ?? "\(error)")")
            return
        }
        self.record(record, key: key)
    }

    /// Unlocks the vault, creating a key-file vault first when none exists (and saying so on stderr).
    func unlockOrCreateVault() throws -> UnlockedVault {
        let (vault, created) = try vault.unlockOrCreate(keys, now: now)
        if created {
            Diagnostics.notice("created a new vault at \(paths.vault)")
            let origin = (try? KeySources.newVaultKey(.keyFile, environment: keys).origin) ?? "its key file"
            Diagnostics.notice("its key is in \(origin): keep a copy somewhere safe; without it the vault cannot be opened")
        }
        return vault
    }
}
