import ArgumentParser
import TokenrunKit
import TokenrunVersion

#if canImport(Glibc)
    import Glibc
#endif

@main
struct TokenrunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenrun",
        abstract: "Run commands with fresh OAuth access tokens from a sealed vault.",
        discussion: """
            tokenrun keeps OAuth refresh tokens in a libsodium-sealed vault and hands \
            access tokens to programs through environment variables or private files, \
            as described by declarative profiles.

            Files (XDG base directories):
              profiles   $TOKENRUN_PROFILE_PATH, $XDG_CONFIG_HOME/tokenrun/profiles/NAME.toml, built-ins
              vault      $XDG_DATA_HOME/tokenrun/vault (lock file beside it)
              key file   $XDG_CONFIG_HOME/tokenrun/vault.key
              config     $XDG_CONFIG_HOME/tokenrun/config.toml

            The vault is unlocked by, in order: a key kept in the session keyring by \
            tokenrun vault unlock, TOKENRUN_KEY_FILE, the systemd credential \
            tokenrun-vault-key, TOKENRUN_PASSPHRASE / TOKENRUN_PASSPHRASE_FILE, the default \
            key file, or a passphrase prompt on a terminal.

            Start with: tokenrun login -p NAME (tokenrun profiles list shows the names); \
            when something is wrong: tokenrun doctor.

            Shell completion: tokenrun completion bash|zsh|fish. Colour only on a terminal, \
            never with NO_COLOR set.

            Exit status:
              child's   run: the command's own status; 128+N if signal N killed it
              0         success
              1         doctor: a check failed; log --verify: the chain is broken
              64        usage error
              75        temporary failure (provider unreachable, 5xx, 429): retry later
              77        a new login is needed (refresh token rejected or missing): tokenrun login -p NAME
              78        configuration: profile missing or invalid, client rejected, vault unreadable, wrong key, unsafe permissions
              126       run: the command was found but cannot be executed
              127       run: the command was not found
            """,
        version: TokenrunVersion.description,
        subcommands: [
            RunCommand.self, GetCommand.self, ExportCommand.self, StatusCommand.self, ImportCommand.self,
            LoginCommand.self, RevokeCommand.self, DoctorCommand.self, LogCommand.self, ProfilesCommand.self, VaultCommand.self,
            GitCredentialCommand.self, ServeCredentialsCommand.self, CompletionCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    static func main() {
        // Before any secret is read: no core dumps, not dumpable, umask 077.
        ProcessHardening.apply()
        if let status = FastPath.handle(CommandLine.arguments) { Glibc.exit(status) }
        Self.main(nil)
    }
}
