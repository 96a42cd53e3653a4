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

            With --batch-stdin, many credentials are stored in one vault write, from JSON \
            lines on standard input: {"profile": "gmail", "refresh_token": "…"}, with an \
            optional "client_secret". Every profile must exist; nothing is stored unless \
            every line is valid. For moving a fleet of credentials from another tool.
            """
    )

    @Option(name: .shortAndLong, help: "The profile the token belongs to.", completion: ProfileCompletion.kind)
    var profile: String?

    @Flag(name: .customLong("refresh-token-stdin"), help: "Read the refresh token from standard input (required).")
    var refreshTokenStdin = false

    @Flag(name: .customLong("client-secret-stdin"), help: "Also read the client secret, as the second line of standard input.")
    var clientSecretStdin = false

    @Flag(name: .customLong("batch-stdin"), help: "Read many credentials as JSON lines from standard input (no -p).")
    var batchStdin = false

    func validate() throws {
        if batchStdin {
            guard profile == nil, !refreshTokenStdin, !clientSecretStdin else {
                throw ValidationError(
                    "--batch-stdin names the profiles in its input: leave out -p, --refresh-token-stdin and --client-secret-stdin")
            }
            return
        }
        guard profile != nil else { throw ValidationError("missing -p/--profile (or use --batch-stdin)") }
        guard refreshTokenStdin else {
            throw ValidationError("pass --refresh-token-stdin and give the token on standard input; tokens are never accepted as arguments")
        }
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            if batchStdin { return try importBatch(context) }
            guard let profile else { return }
            // Check the profile before reading any secret.
            let loaded = try context.profiles.load(profile)
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
            let replaced = try CredentialImport.store(
                input, profile: profile, issuer: IssuerBinding.issuer(of: loaded), in: vault, now: context.now)
            var record = AuditRecord(event: "import", profiles: [profile])
            record.outcome = replaced ? "replaced" : "stored"
            context.record(record, vault: vault)
            Output.line(
                "\(replaced ? "replaced the credential" : "stored a refresh token") for profile \(profile)"
                    + (input.clientSecret != nil ? " (with its client secret)" : ""))
        }
    }

    func importBatch(_ context: CommandContext) throws {
        guard !Terminal.isTerminal(0) else {
            throw TokenrunError.invalidCredentialInput("--batch-stdin reads JSON lines from a file or a pipe, not from the terminal")
        }
        guard let bytes = Terminal.readStandardInput(limit: CredentialImport.batchLimit) else {
            throw TokenrunError.invalidCredentialInput("standard input is longer than \(CredentialImport.batchLimit >> 20) MiB")
        }
        let items = try CredentialImport.parseBatch(bytes)
        // Every profile must exist before anything is stored.
        var issuers: [String: CredentialIssuer] = [:]
        for item in items { issuers[item.profile] = IssuerBinding.issuer(of: try context.profiles.load(item.profile)) }
        let vault = try context.unlockOrCreateVault()
        let replaced = try CredentialImport.storeAll(items, issuers: issuers, in: vault, now: context.now)
        var record = AuditRecord(event: "import", profiles: items.count <= 20 ? items.map(\.profile).sorted() : [])
        record.outcome = "stored"
        record.detail = "\(items.count) credential\(items.count == 1 ? "" : "s") (\(replaced.count) replaced)"
        context.record(record, vault: vault)
        Output.line("stored \(items.count) credential\(items.count == 1 ? "" : "s") (\(replaced.count) replaced)")
    }
}
