import ArgumentParser
import TokenrunCommands
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

    typealias Field = GetField

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
        let status = Diagnostics.status {
            guard json else {
                try HotPaths.printValue(profile: profile, field: field, minTTL: ttl.seconds, force: ttl.refresh, verbose: verbose)
                return 0
            }
            let got = try HotPaths.value(
                profile: profile, detail: "json", xoauth2: false, minTTL: ttl.seconds, force: ttl.refresh, verbose: verbose)
            let expiresAt = got.credential.expiresAt
            Output.line(
                try JSONOutput.encode(
                    JSONResult(
                        profile: profile, access_token: got.values["access_token"] ?? "", token_type: got.values["token_type"] ?? "Bearer",
                        expires_at: OrNull(expiresAt), expires_in: OrNull(expiresAt.map { max(0, $0 - got.now) }),
                        status: got.credential.state.rawValue, scope: got.values["scope"] ?? "")))
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension GetField: ExpressibleByArgument {}
