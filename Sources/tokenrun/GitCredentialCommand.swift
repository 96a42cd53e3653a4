import ArgumentParser
import TokenrunKit

struct GitCredentialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "git-credential",
        abstract: "Act as a git credential helper: answer with a fresh access token as the password.",
        discussion: """
            git config --global credential.https://github.com.helper '!tokenrun git-credential -p github'

            get: prints username (the one git asked for, else the profile's username, \
            else "oauth2") and password (a fresh access token, refreshed first if needed). \
            store: nothing to do, tokenrun keeps its own tokens. erase (git saw the \
            password rejected): forgets that access token, so the next get refreshes; the \
            grant itself is kept.
            """
    )

    @Option(name: .shortAndLong, help: "The profile whose token is the password.", completion: ProfileCompletion.kind)
    var profile: String

    @Argument(help: "get, store or erase (git gives it).")
    var operation: String

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            guard let input = Terminal.readStandardInput(limit: 64 << 10) else {
                throw TokenrunError.invalidCredentialInput("git sent more than 64 KiB on standard input")
            }
            let attributes = GitCredentialProtocol.parse(input)
            switch operation {
            case "get": try get(attributes, context: context)
            case "erase": try erase(attributes, context: context)
            default: return  // store, and operations added later: nothing to do (gitcredentials(7))
            }
        }
    }

    func get(_ attributes: [String: String], context: CommandContext) throws {
        let ready = try context.tokens.usable([profile], minTTL: nil)
        for warning in ready.warnings { Diagnostics.warning(warning) }
        let injection = ready.injections[0]
        let username = attributes["username"] ?? injection.profile.username ?? "oauth2"
        guard let token = injection.credential.accessToken,
            let answer = GitCredentialProtocol.answer(
                username: username, password: token.value, expiresAt: injection.credential.expiresAt)
        else {
            throw TokenrunError.invalidCredentialInput(
                "the username or token of \(profile) cannot be passed to git (empty, or a line break)")
        }
        var record = AuditRecord(event: "get", profiles: [profile])
        record.detail = "git-credential \(attributes["host"] ?? "")"
        context.record(record, key: ready.auditKey)
        print(answer, terminator: "")
    }

    func erase(_ attributes: [String: String], context: CommandContext) throws {
        // An API key is not refreshable: forgetting it would lose it.
        guard let password = attributes["password"], try context.profiles.load(profile).kind == .oauth,
            try context.vault.summary() != nil
        else { return }
        let vault = try context.vault.unlock(context.keys)
        var forgot = false
        try vault.updateCredential(for: profile) { current in
            guard var credential = current, credential.accessToken?.value == password else { return nil }
            credential.accessToken = nil
            credential.expiresAt = nil
            credential.updatedAt = context.now
            forgot = true
            return credential
        }
        guard forgot else { return }
        var record = AuditRecord(event: "git_credential_erase", profiles: [profile])
        record.detail = "the access token was rejected at \(attributes["host"] ?? "the server"); it is refreshed at the next use"
        context.record(record, vault: vault)
    }
}
