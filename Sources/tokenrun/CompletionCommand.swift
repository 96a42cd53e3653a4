// `tokenrun completion SHELL`: the completion script, a friendlier spelling of
// ArgumentParser's `--generate-completion-script SHELL`.
import ArgumentParser

struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print the completion script for bash, zsh or fish.",
        discussion: """
            Profile names after -p/--profile complete from the profile directories.

            Load it into the shell, or save it where the shell looks:
              bash   source <(tokenrun completion bash)
                     or save as ~/.local/share/bash-completion/completions/tokenrun
              zsh    tokenrun completion zsh > "${fpath[1]}/_tokenrun"
              fish   tokenrun completion fish > ~/.config/fish/completions/tokenrun.fish

            make install puts all three where the shells look by default.
            """
    )

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: Shell

    func run() {
        let kind: CompletionShell =
            switch shell {
            case .bash: .bash
            case .zsh: .zsh
            case .fish: .fish
            }
        Output.line(TokenrunCommand.completionScript(for: kind))
    }
}
