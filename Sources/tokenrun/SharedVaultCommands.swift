import ArgumentParser
import TokenrunKit

extension CommandContext {
    /// The fleet's shared vault, when TOKENRUN_VAULT_URL or `[vault] url` names one.
    func sharedVaultURL() throws -> SharedVaultURL? {
        try SharedVaultURL.configured(environment: environment, configPath: paths.globalConfig)
    }

    /// The shared vault, connected; throws when none is configured.
    func connectSharedVault(for command: String) throws -> SharedVault {
        guard let url = try sharedVaultURL() else {
            throw TokenrunError.usage(
                "\(command) needs a shared vault: set TOKENRUN_VAULT_URL=postgresql://… or [vault] url in \(paths.globalConfig)")
        }
        return SharedVault(session: try PostgresSession.open(url, environment: environment))
    }

    var hostName: String { SharedVault.hostName(environment: environment) }
}

/// `vault init` with a shared vault: the tables, then this host's copy with the shared header.
enum SharedVaultInit {
    static func run(_ context: CommandContext, shared: SharedVault, newKey: () throws -> (NewVaultKey, String)) throws {
        try join(context, shared: shared, newKey: newKey)
        // From now on a refresh on this host needs the shared vault (cron jobs included).
        try (context.vault.storage as? FleetVaultStorage)?.markMember(of: shared.session.url)
    }

    static func join(_ context: CommandContext, shared: SharedVault, newKey: () throws -> (NewVaultKey, String)) throws {
        let found = try shared.migrate()
        if found == nil {
            Output.line("created the shared vault's tables in \(shared.location) (schema \(SharedVault.schemaVersion))")
        }
        if let header = try shared.header() {
            // Another host set it up: this host's copy takes its header, opened with the fleet's key file.
            if try context.vault.summary() != nil {
                let local = try context.vault.unlock(context.keys)
                guard try local.headerLine() == header else {
                    throw TokenrunError.sharedVaultRefused(
                        location: shared.location,
                        reason: "this host's vault \(context.paths.vault) is another vault than the shared one (another key)",
                        hint:
                            "move it aside (mv \(TokenrunError.shellQuoted(context.paths.vault)) \(TokenrunError.shellQuoted(context.paths.vault + ".local"))), copy the fleet's key file here, and run tokenrun vault init again"
                    )
                }
                Output.line("this host's vault \(context.paths.vault) is already the shared vault's copy")
                try pull(shared, into: local)
                return
            }
            let local: UnlockedVault
            do {
                local = try context.vault.adopt(headerLine: header, from: shared.location, environment: context.keys)
            } catch TokenrunError.noKeySource {
                throw TokenrunError.sharedVaultRefused(
                    location: shared.location, reason: "this host has no copy of the fleet's vault key",
                    hint:
                        "copy the key file of the host that ran tokenrun vault init first to \(origin(context)) (mode 600), or hand it over as the systemd credential tokenrun-vault-key; then run tokenrun vault init again"
                )
            }
            Output.line("created this host's copy of the shared vault: \(context.paths.vault)")
            try pull(shared, into: local)
            return
        }
        // The first host: its vault (made now when there is none) gives the shared header.
        let local: UnlockedVault
        if try context.vault.summary() == nil {
            let (key, origin) = try newKey()
            local = try context.vault.create(key, now: context.now)
            Output.line("created the vault \(context.paths.vault), sealed with \(origin)")
        } else {
            local = try context.vault.unlock(context.keys)
        }
        let line = try local.headerLine()
        guard try shared.setHeaderIfAbsent(line) == line else {
            throw TokenrunError.sharedVaultRefused(
                location: shared.location, reason: "another host set up the shared vault at the same moment with another key",
                hint: "move \(context.paths.vault) aside, copy that host's key file here, and run tokenrun vault init again")
        }
        Output.line("the shared vault \(shared.location) now uses this host's vault key")
        Diagnostics.notice(
            "other hosts need the same key: copy \(origin(context)) to them (mode 600), or hand it over as the systemd credential tokenrun-vault-key"
        )
        if local.keySource == .keyFile, try !local.sealedRecords().isEmpty {
            Diagnostics.notice("this vault's credentials are not in the shared vault yet: tokenrun vault push")
        }
    }

    /// Copies the shared vault's records into this host's vault (each checked first).
    static func pull(_ shared: SharedVault, into local: UnlockedVault) throws {
        let changed = try local.adopt(try shared.records().map(\.record), from: shared.location)
        if !changed.isEmpty {
            Output.line(
                "copied \(changed.count) credential\(changed.count == 1 ? "" : "s") from the shared vault: \(changed.joined(separator: ", "))"
            )
        }
    }

    static func origin(_ context: CommandContext) -> String {
        context.environment["TOKENRUN_KEY_FILE"] ?? Paths.join(context.paths.configHome, "tokenrun/vault.key")
    }
}

struct VaultPush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy this host's vault records into the fleet's shared vault.",
        discussion: """
            Copies each credential's sealed record, as the vault file holds it, into the shared vault \
            named by TOKENRUN_VAULT_URL or [vault] url in config.toml (run tokenrun vault init first). \
            A credential the shared vault already holds with another record is kept as the shared \
            vault has it (another host may have refreshed it since), unless --replace is given. \
            Nothing is opened or sealed for the database: it sees only sealed records.
            """
    )

    @Flag(help: "Overwrite the shared vault's records of the same credentials with this host's.")
    var replace = false

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let shared = try context.connectSharedVault(for: "tokenrun vault push")
            guard try shared.installedSchema() != nil, let header = try shared.header() else {
                throw TokenrunError.sharedVaultRefused(
                    location: shared.location, reason: "it is not set up yet", hint: "tokenrun vault init (with the same URL)")
            }
            let local = try context.vault.unlock(context.keys)
            guard try local.headerLine() == header else {
                throw TokenrunError.sharedVaultRefused(
                    location: shared.location, reason: "this host's vault \(context.paths.vault) is another vault than the shared one",
                    hint: "push from a host whose vault shares the fleet's key (tokenrun vault init there adopts it)")
            }
            var pushed: [String] = []
            var kept: [String] = []
            var same = 0
            try shared.transaction {
                try shared.session.execute("SELECT set_config('lock_timeout', '30s', true)")
                for record in try local.sealedRecords().sorted(by: { $0.profile < $1.profile }) {
                    _ = try shared.lock(record.profile, waiting: 30)  // after any refresh of it elsewhere
                    if try shared.insert(record, host: context.hostName) {
                        pushed.append(record.profile)
                    } else if try shared.record(record.profile)?.record.sealed == record.sealed {
                        same += 1
                    } else if replace {
                        try shared.put(record, host: context.hostName)
                        pushed.append(record.profile)
                    } else {
                        kept.append(record.profile)
                    }
                }
            }
            let sent = try local.sealedRecords().filter { pushed.contains($0.profile) }
            (context.vault.storage as? FleetVaultStorage)?.clearPending(
                Dictionary(uniqueKeysWithValues: sent.map { ($0.profile, $0.sealed) }))
            Output.line(
                "pushed \(pushed.count) credential\(pushed.count == 1 ? "" : "s") to \(shared.location)"
                    + (same > 0 ? " (\(same) already there)" : ""))
            for name in kept {
                Diagnostics.warning(
                    "kept the shared vault's record of \(name), which differs from this host's (refreshed elsewhere?); tokenrun vault push --replace overwrites it"
                )
            }
        }
    }
}

struct VaultMigrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the tables of the fleet's shared vault.",
        discussion: """
            Brings the shared vault named by TOKENRUN_VAULT_URL or [vault] url in config.toml to this \
            version's schema, in one transaction (safe to run from several hosts at once). Needs a \
            role that may create tables; the fleet's hosts need only the grants the README lists.
            """
    )

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let shared = try context.connectSharedVault(for: "tokenrun vault migrate")
            switch try shared.migrate() {
            case SharedVault.schemaVersion?:
                Output.line("the shared vault \(shared.location) is at schema \(SharedVault.schemaVersion), this version's")
            case let found?:
                Output.line("upgraded the shared vault \(shared.location) from schema \(found) to \(SharedVault.schemaVersion)")
            case nil:
                Output.line("created the shared vault's tables in \(shared.location) (schema \(SharedVault.schemaVersion))")
            }
        }
    }
}

/// The shared vault as `vault status` shows it: reachable or not, its schema and size.
enum SharedVaultStatus {
    struct Report: Encodable {
        let url: String
        let reachable: Bool
        let schema: OrNull<Int>
        let credentials: OrNull<Int>
        let server: OrNull<String>
        let error: OrNull<String>
    }

    static func check(_ url: SharedVaultURL, context: CommandContext) -> Report {
        do {
            let shared = SharedVault(session: try PostgresSession.open(url, environment: context.environment))
            let schema = try shared.installedSchema()
            let count = schema == nil ? nil : try shared.count()
            return Report(
                url: url.shown, reachable: true, schema: OrNull(schema), credentials: OrNull(count),
                server: OrNull(shared.session.serverVersion), error: OrNull(nil))
        } catch {
            let reason = (error as? TokenrunError)?.summary ?? "\(error)"
            return Report(
                url: url.shown, reachable: false, schema: OrNull(nil), credentials: OrNull(nil), server: OrNull(nil),
                error: OrNull(reason))
        }
    }

    static func print(_ report: Report) {
        guard report.reachable else {
            Output.line("shared:       \(report.url) (cannot use it: \(report.error.value ?? "no detail"))")
            return
        }
        guard let schema = report.schema.value else {
            Output.line("shared:       \(report.url) (PostgreSQL \(report.server.value ?? "?"), no tokenrun tables: tokenrun vault init)")
            return
        }
        let count = report.credentials.value ?? 0
        Output.line(
            "shared:       \(report.url) (PostgreSQL \(report.server.value ?? "?"), schema \(schema), \(count) credential\(count == 1 ? "" : "s"))"
        )
    }
}
