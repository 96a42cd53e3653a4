/// Where an empty passphrase came from, for its message and hint.
public enum PassphraseSource: Sendable, Equatable {
    /// TOKENRUN_PASSPHRASE, set to nothing.
    case variable
    /// TOKENRUN_PASSPHRASE_FILE's file.
    case file(String)
    /// The systemd credential's file.
    case credential(String)
    /// The prompt on the terminal.
    case terminal

    var phrase: String {
        switch self {
        case .variable: "TOKENRUN_PASSPHRASE"
        case .file(let path): "the passphrase file \(path)"
        case .credential(let path): "the systemd credential \(path)"
        case .terminal: "the terminal"
        }
    }
}
