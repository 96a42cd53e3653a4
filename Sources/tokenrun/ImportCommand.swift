import ArgumentParser
import TokenrunKit

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store a refresh token obtained elsewhere, read from standard input.",
        discussion: """
            The refresh token is read from standard input (one line), never from the \
            command line, so it does not show in the process list or shell history. \
            On a terminal it is asked for without echo. With --client-secret-stdin the \
            second line is the client secret, sealed in the vault beside the token.

            Example: tokenrun import -p gmail --refresh-token-stdin < token.txt
            """
    )

    @Option(name: .shortAndLong, help: "The profile the token belongs to.", completion: ProfileCompletion.kind)
    var profile: String

    @Flag(name: .customLong("refresh-token-stdin"), help: "Read the refresh token from standard input (required).")
    var refreshTokenStdin = false

    @Flag(name: .customLong("client-secret-stdin"), help: "Also read the client secret, as the second line of standard input.")
    var clientSecretStdin = false

    func validate() throws {
        guard refreshTokenStdin else {
            throw ValidationError("pass --refresh-token-stdin and give the token on standard input; tokens are never accepted as arguments")
        }
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            // Check the profile before reading any secret.
            _ = try context.profiles.load(profile)
            let bytes: [UInt8]
            if Terminal.isTerminal(0) {
                var lines: [String] = []
                guard let token = try Terminal.readSecret(prompt: "Refresh token for \(profile) (input hidden): ") else {
                    throw TokenrunError.invalidCredentialInput("no refresh token entered")
                }
                lines.append(token.utf8String() ?? "")
                if clientSecretStdin {
                    let secret = try Terminal.readSecret(prompt: "Client secret for \(profile) (input hidden): ")
                    lines.append(secret?.utf8String() ?? "")
                }
                bytes = Array(lines.joined(separator: "\n").utf8)
            } else {
                guard let read = Terminal.readStandardInput(limit: CredentialImport.inputLimit) else {
                    throw TokenrunError.invalidCredentialInput(
                        "standard input is longer than \(CredentialImport.inputLimit) bytes; it should hold only the refresh token")
                }
                bytes = read
            }
            let input = try CredentialImport.parse(bytes, expectClientSecret: clientSecretStdin)
            let vault = try context.unlockOrCreateVault()
            let replaced = try CredentialImport.store(input, profile: profile, in: vault, now: context.now)
            var record = AuditRecord(event: "import", profiles: [profile])
            record.outcome = replaced ? "replaced" : "stored"
            context.record(record, vault: vault)
            Output.line(
                "\(replaced ? "replaced the credential" : "stored a refresh token") for profile \(profile)"
                    + (input.clientSecret != nil ? " (with its client secret)" : ""))
        }
    }
}
