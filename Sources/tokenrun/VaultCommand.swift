import ArgumentParser
import TokenrunKit

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Create the sealed vault, show how it is sealed, or keep it unlocked for a while.",
        discussion: """
            tokenrun vault unlock --for 8h opens the vault once (asking for the passphrase, or \
            with any other key source) and keeps its secret key in this session's kernel keyring \
            until the time is up, so that later calls in the session need no passphrase and skip \
            Argon2id. The trade-off: until then, any process that shares the session keyring (your \
            own processes in this login session) can use the key; the commands tokenrun runs get a \
            session keyring of their own and cannot. tokenrun vault lock forgets it at once.
            """,
        subcommands: [VaultInit.self, VaultStatus.self, VaultUnlock.self, VaultLock.self, VaultPush.self, VaultMigrate.self]
    )
}

extension PasswordHash.Cost: ExpressibleByArgument {}

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new vault, sealed with a key file (default) or a passphrase.",
        discussion: """
            Key sources are taken in the order unlocking uses. With a key file (the default, \
            and what cron jobs and services need), the key is $TOKENRUN_KEY_FILE, else the \
            systemd credential tokenrun-vault-key in $CREDENTIALS_DIRECTORY, else \
            $XDG_CONFIG_HOME/tokenrun/vault.key; a key file that does not exist yet is made \
            (32 random bytes, mode 600), a valid one is reused. Keep a copy of it: without it \
            the vault cannot be opened.

            With --passphrase, the key is derived from a passphrase with Argon2id. The \
            passphrase comes from the systemd credential, TOKENRUN_PASSPHRASE, \
            TOKENRUN_PASSPHRASE_FILE or, on a terminal, is asked for twice; an empty one is refused.

            An existing vault is never replaced.

            With a shared vault (TOKENRUN_VAULT_URL=postgresql://… or [vault] url in config.toml, \
            fleet mode), it also creates the shared vault's tables when they are missing. The first \
            host's vault key becomes the fleet's; on every other host, copy that key file first \
            (or hand it over as the systemd credential), and this makes the host's local copy.
            """
    )

    @Flag(help: "Seal the vault with a passphrase instead of a key file.")
    var passphrase = false

    @Option(help: "Argon2id cost for --passphrase: interactive, moderate or sensitive.")
    var kdfCost: PasswordHash.Cost = .moderate

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let kind: KeySourceKind = passphrase ? .passphrase : .keyFile
            if let url = try context.sharedVaultURL() {
                let shared = SharedVault(session: try PostgresSession.open(url, environment: context.environment))
                try SharedVaultInit.run(context, shared: shared) {
                    try KeySources.newVaultKey(kind, cost: kdfCost, environment: context.keys)
                }
                return
            }
            if let existing = try context.vault.summary() {
                throw TokenrunError.vaultExists(path: existing.path)
            }
            let (key, origin) = try KeySources.newVaultKey(kind, cost: kdfCost, environment: context.keys)
            try context.vault.create(key, now: context.now)
            if passphrase {
                Output.line(
                    "created the vault \(context.paths.vault), sealed with a passphrase from \(origin) (Argon2id, \(kdfCost.rawValue) cost)"
                )
            } else {
                Output.line("created the vault \(context.paths.vault), sealed with \(origin)")
                Diagnostics.notice("keep a copy of \(origin) somewhere safe: without it the vault cannot be opened")
            }
        }
    }
}

struct VaultStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the vault's path, how it is sealed and how many credentials it holds.",
        discussion: """
            Never shows the credentials' contents. Checks that a key source is found and opens the vault, \
            and says whether tokenrun vault unlock keeps it unlocked in the kernel keyring (and roughly \
            for how long, as the kernel shows it).
            """
    )

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        let path: String
        let exists: Bool
        let key_source: OrNull<String>
        let credentials: Int
        let unlocks: Bool
        let created_at: OrNull<String>
        let keyring: OrNull<String>
        let keyring_expires_in: OrNull<String>
        let keyring_name: OrNull<String>
        let backend: String
        let shared: OrNull<SharedVaultStatus.Report>
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let shared = try context.sharedVaultURL().map { SharedVaultStatus.check($0, context: context) }
            guard let summary = try context.vault.summary() else {
                if json {
                    Output.line(
                        try JSONOutput.encode(
                            Report(
                                path: context.paths.vault, exists: false, key_source: OrNull(nil), credentials: 0, unlocks: false,
                                created_at: OrNull(nil), keyring: OrNull(nil), keyring_expires_in: OrNull(nil),
                                keyring_name: OrNull(nil), backend: shared == nil ? "file" : "postgresql",
                                shared: OrNull(shared)))
                    )
                } else {
                    Output.line("vault:        \(context.paths.vault) (not created yet)")
                    if let shared { SharedVaultStatus.print(shared) }
                    Output.line("create it with: tokenrun vault init   (or import a credential)")
                }
                return
            }
            let keyring = (try? context.vault.keyringStatus()) ?? nil
            var unlockError: TokenrunError?
            do {
                _ = try context.vault.unlock(context.keys)
            } catch let error as TokenrunError {
                unlockError = error
            }
            if json {
                Output.line(
                    try JSONOutput.encode(
                        Report(
                            path: summary.path, exists: true, key_source: OrNull(summary.keySource.rawValue),
                            credentials: summary.credentialCount, unlocks: unlockError == nil,
                            created_at: OrNull(Timestamp.iso8601(summary.createdAt)), keyring: OrNull(keyring.map(Self.word)),
                            keyring_expires_in: OrNull(keyring.flatMap(Self.remaining)),
                            keyring_name: OrNull((try? context.vault.keyringName()) ?? nil),
                            backend: shared == nil ? "file" : "postgresql", shared: OrNull(shared))))
            } else {
                Output.line("vault:        \(summary.path)")
                Output.line("sealed with:  \(summary.keySource.phrase)")
                Output.line("credentials:  \(summary.credentialCount)")
                Output.line("created:      \(Timestamp.iso8601(summary.createdAt))")
                Output.line("unlocks:      \(unlockError == nil ? "yes" : "no")")
                if let keyring { Output.line("keyring:      \(Self.describe(keyring))") }
                if let shared { SharedVaultStatus.print(shared) }
            }
            if let unlockError { throw unlockError }
        }
    }

    /// "unlocked", "locked" or "unavailable", for --json.
    static func word(_ status: KeyringStatus) -> String {
        switch status {
        case .unlocked: "unlocked"
        case .locked: "locked"
        case .unavailable: "unavailable"
        }
    }

    static func remaining(_ status: KeyringStatus) -> String? {
        if case .unlocked(let remaining) = status { return remaining }
        return nil
    }

    static func describe(_ status: KeyringStatus) -> String {
        switch status {
        case .unlocked(let remaining?): "unlocked (about \(remaining) left; tokenrun vault lock forgets the key)"
        case .unlocked(nil): "unlocked (tokenrun vault lock forgets the key)"
        case .locked: "locked (tokenrun vault unlock keeps it unlocked for a while)"
        case .unavailable(let reason): "unavailable (\(reason))"
        }
    }
}

struct VaultUnlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Keep the vault unlocked in this session's kernel keyring for a while.",
        discussion: """
            Opens the vault once with the usual key sources (TOKENRUN_KEY_FILE, the systemd \
            credential, TOKENRUN_PASSPHRASE / TOKENRUN_PASSPHRASE_FILE, the key file, or the \
            passphrase prompt; never a key already cached) and keeps the vault's secret key in the \
            Linux kernel's session keyring for --for (8h unless given; at most 7d). Until then, \
            every tokenrun in the session opens the vault with it: no passphrase, no Argon2id. \
            Running it again starts the time anew.

            The trade-off: until the time is up, any process that shares the session keyring \
            (yours, in this login session) can read the key and open the vault; the commands, hooks \
            and browsers tokenrun starts get a new session keyring of their own. tokenrun vault lock forgets it at once. Where the process has no \
            session keyring of its own (no pam_keyinit, as in some ssh, su and container sessions) \
            the key goes to your user's default session keyring, shared by all your processes \
            without one; tokenrun says so.

            Only the vault's secret key is kept, never the passphrase; only a process that \
            possesses the keyring can see or read it, and its name holds a hash of the vault's \
            public key, nothing secret. Where the kernel keyring is unavailable (a container's \
            seccomp filter often blocks it) this exits 78.
            """
    )

    @Option(
        name: .customLong("for"),
        help: ArgumentHelp("How long the vault stays unlocked (\"30m\", \"8h\", \"1d\"; at most 7d).", valueName: "DUR"))
    var duration = "8h"

    func validate() throws {
        guard let seconds = DurationParser.seconds(duration) else {
            throw ValidationError("--for: expected \(DurationParser.expectation), found \"\(duration)\"")
        }
        guard KeyringCache.isValidLifetime(seconds) else {
            throw ValidationError(
                "--for: the vault can stay unlocked for 1s to \(DurationParser.format(KeyringCache.maximumLifetime)), not \"\(duration)\"")
        }
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let seconds = DurationParser.seconds(duration) ?? 0
            let keyring = try context.vault.unlockIntoKeyring(context.keys, lifetime: seconds)
            let span = DurationParser.format(seconds)
            switch keyring {
            case .own:
                Output.line(
                    "unlocked the vault \(context.paths.vault) for \(span) in this session's kernel keyring; `tokenrun vault lock` forgets it"
                )
            case .userDefault:
                Output.line(
                    "unlocked the vault \(context.paths.vault) for \(span) in your user's default session keyring; `tokenrun vault lock` forgets it"
                )
                Diagnostics.notice(
                    "this process has no session keyring of its own, so every process of yours without one can use the key until then"
                )
            }
        }
    }
}

struct VaultLock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Forget the vault key that tokenrun vault unlock keeps in the session keyring.",
        discussion: "Exits 0 whether or not a key was kept; says which. Later calls need a key source again."
    )

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            switch try context.vault.lockKeyring() {
            case true?:
                Output.line("locked the vault \(context.paths.vault): its key is gone from the session keyring")
            case false?:
                Output.line("the vault \(context.paths.vault) was not unlocked in the session keyring; nothing to forget")
            case nil:
                Output.line("there is no vault at \(context.paths.vault); nothing to forget")
            }
        }
    }
}
