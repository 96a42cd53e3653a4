import ArgumentParser
import TokenrunKit

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Create the sealed vault or show how it is sealed.",
        subcommands: [VaultInit.self, VaultStatus.self]
    )
}

extension PasswordHash.Cost: ExpressibleByArgument {}

struct VaultInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new vault, sealed with a key file (default) or a passphrase.",
        discussion: """
            With a key file (the default, and what cron jobs and services need), a random \
            32-byte key is written to $TOKENRUN_KEY_FILE or $XDG_CONFIG_HOME/tokenrun/vault.key \
            (mode 600); an existing valid key file there is reused. Keep a copy of it: \
            without it the vault cannot be opened.

            With --passphrase, the key is derived from a passphrase with Argon2id. The \
            passphrase comes from TOKENRUN_PASSPHRASE_FILE, TOKENRUN_PASSPHRASE or, on a \
            terminal, is asked for twice.

            An existing vault is never replaced.
            """
    )

    @Flag(help: "Seal the vault with a passphrase instead of a key file.")
    var passphrase = false

    @Option(help: "Argon2id cost for --passphrase: interactive, moderate or sensitive.")
    var kdfCost: PasswordHash.Cost = .moderate

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            if let existing = try context.vault.summary() {
                throw TokenrunError.vaultExists(path: existing.path)
            }
            if passphrase {
                let secret = try readNewPassphrase(context)
                try context.vault.create(.passphrase(secret, cost: kdfCost), now: context.now)
                Output.line("created the vault \(context.paths.vault), sealed with a passphrase (Argon2id, \(kdfCost.rawValue) cost)")
            } else {
                let keyFile = context.keys.keyFileForNewVault
                try context.vault.create(.keyFile(path: keyFile), now: context.now)
                Output.line("created the vault \(context.paths.vault), sealed with the key file \(keyFile)")
                Diagnostics.notice("keep a copy of \(keyFile) somewhere safe: without it the vault cannot be opened")
            }
        }
    }

    func readNewPassphrase(_ context: CommandContext) throws -> SecretBytes {
        let env = context.environment
        if let path = env["TOKENRUN_PASSPHRASE_FILE"], !path.isEmpty {
            return try KeySources.readPassphraseFile(path)
        }
        if let value = env["TOKENRUN_PASSPHRASE"], !value.isEmpty {
            return try SecretBytes(utf8: value)
        }
        guard Terminal.hasControllingTerminal() else {
            throw TokenrunError.passphraseUnavailable(
                reason: "not on a terminal, and neither TOKENRUN_PASSPHRASE_FILE nor TOKENRUN_PASSPHRASE is set")
        }
        guard let first = try Terminal.readSecret(prompt: "New vault passphrase: ") else {
            throw TokenrunError.passphraseUnavailable(reason: "an empty passphrase is not allowed")
        }
        guard let second = try Terminal.readSecret(prompt: "Repeat the passphrase: "), first.isEqual(to: second) else {
            throw TokenrunError.passphraseUnavailable(reason: "the two passphrases differ")
        }
        return first
    }
}

struct VaultStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the vault's path, how it is sealed and how many credentials it holds.",
        discussion: "Never shows the credentials' contents. Checks that a key source is found and opens the vault."
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
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            guard let summary = try context.vault.summary() else {
                if json {
                    Output.line(
                        try JSONOutput.encode(
                            Report(
                                path: context.paths.vault, exists: false, key_source: OrNull(nil), credentials: 0, unlocks: false,
                                created_at: OrNull(nil)))
                    )
                } else {
                    Output.line("vault:        \(context.paths.vault) (not created yet)")
                    Output.line("create it with: tokenrun vault init   (or import a credential)")
                }
                return
            }
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
                            created_at: OrNull(Timestamp.iso8601(summary.createdAt)))))
            } else {
                Output.line("vault:        \(summary.path)")
                Output.line("sealed with:  \(summary.keySource.phrase)")
                Output.line("credentials:  \(summary.credentialCount)")
                Output.line("created:      \(Timestamp.iso8601(summary.createdAt))")
                Output.line("unlocks:      \(unlockError == nil ? "yes" : "no")")
            }
            if let unlockError { throw unlockError }
        }
    }
}
