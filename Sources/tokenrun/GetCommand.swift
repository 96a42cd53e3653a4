import ArgumentParser
import TokenrunKit

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print one value of a profile's credential, refreshing first if needed.",
        discussion: """
            For programs that ask for a token on demand: msmtp `passwordeval`, mbsync \
            `PassCmd`, curl -H "Authorization: Bearer $(tokenrun get -p NAME)".

            Fields: access_token (default), token_type, expires_at (seconds since 1970), \
            expires_in (seconds left), status, scope, xoauth2 (the SASL XOAUTH2 string \
            for IMAP/SMTP, from the profile's username and the token).
            """
    )

    enum Field: String, ExpressibleByArgument, CaseIterable {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case expiresIn = "expires_in"
        case status, scope, xoauth2
    }

    @Option(name: .shortAndLong, help: "The profile.", completion: ProfileCompletion.kind)
    var profile: String

    @Option(help: "The value to print: \(Field.allCases.map(\.rawValue).joined(separator: ", ")).")
    var field: Field = .accessToken

    @OptionGroup var ttl: MinTTLOption

    @Flag(help: "Print every field as a JSON object.")
    var json = false

    @Flag(name: .shortAndLong, help: "Say on stderr what tokenrun decides (names and times, never a secret).")
    var verbose = false

    struct JSONResult: Encodable {
        let profile: String
        let access_token: String
        let token_type: String
        let expires_at: OrNull<Int64>
        let expires_in: OrNull<Int64>
        let status: String
        let scope: String
    }

    func run() throws {
        try Self.printValue(profile: profile, field: field, minTTL: ttl.seconds, force: ttl.refresh, json: json, verbose: verbose)
    }

    /// Prints one field (or all, as JSON) of a usable credential.
    static func printValue(profile: String, field: Field, minTTL: Int64?, force: Bool = false, json: Bool, verbose: Bool = false) throws {
        try Diagnostics.run {
            let context = CommandContext()
            // XOAUTH2 names the account: without a username the string would be refused by the server.
            if field == .xoauth2, !json, try context.profiles.load(profile).username == nil {
                throw TokenrunError.profileIncomplete(
                    profile: profile, missing: "username, the mail account that XOAUTH2 names (username = \"you@example.com\")")
            }
            let ready = try context.tokens.usable([profile], minTTL: minTTL, force: force)
            for warning in ready.warnings { Diagnostics.warning(warning) }
            Verbose(enabled: verbose).report(ready, now: context.now)
            let injection = ready.injections[0]
            let now = context.now
            let values = RenderedInjection(injection, now: now).values
            var record = AuditRecord(event: "get", profiles: [profile])
            record.detail = json ? "json" : field.rawValue
            context.record(record, key: ready.auditKey)
            if json {
                Output.line(
                    try JSONOutput.encode(
                        GetCommand.JSONResult(
                            profile: profile, access_token: values["access_token"] ?? "", token_type: values["token_type"] ?? "Bearer",
                            expires_at: OrNull(injection.credential.expiresAt),
                            expires_in: OrNull(injection.credential.expiresAt.map { max(0, $0 - now) }),
                            status: injection.credential.state.rawValue, scope: values["scope"] ?? "")))
                return
            }
            switch field {
            case .status: Output.line(injection.credential.state.rawValue)
            default: Output.line(values[field.rawValue] ?? "")
            }
        }
    }
}
