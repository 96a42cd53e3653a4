import ArgumentParser
import FoundationEssentials
import TokenrunKit

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each credential's state and expiry.",
        discussion: """
            States: connected (usable, refreshable), expired (access token dead, last \
            refresh failed transiently), invalid (refresh token rejected: run \
            tokenrun login -p NAME), not_logged_in (no credential stored). \
            Tokens are never shown.
            """
    )

    @Option(name: .shortAndLong, help: "Only these profiles (repeatable).", completion: ProfileCompletion.kind)
    var profile: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        try RepeatedProfiles.check(profile)
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            for name in profile { _ = try context.profiles.load(name) }
            let credentials: [Credential]
            if try context.vault.summary() == nil {
                credentials = []
            } else {
                credentials = try context.vault.unlock(context.keys).credentials()
            }
            let reports = CredentialReport.build(
                credentials: credentials, profiles: profile.isEmpty ? nil : profile, store: context.profiles)
            let now = context.now
            let fleet = try Self.fleetRefreshes(context)
            if json {
                try printJSON(reports, now: now, fleet: fleet)
            } else if reports.isEmpty {
                Output.line("no credentials stored and no profiles of your own yet")
                Output.line("store one with: tokenrun import -p NAME --refresh-token-stdin")
            } else {
                var rows = [["PROFILE", "STATE", "ACCESS TOKEN", "NOTE"]]
                for report in reports {
                    var note = note(report)
                    if let last = fleet?.last[report.profile] {
                        let said = "last refreshed by \(last.host) at \(last.at): \(last.outcome)\(last.rotated ? ", rotated" : "")"
                        note = note.isEmpty ? said : note + "; " + said
                    }
                    rows.append([report.profile, report.state, expiry(report, now: now), note])
                }
                Output.table(rows) { row, column, cell in
                    guard row > 0, column == 1 else { return cell }
                    return Colour.paint(cell, Self.colour(ofState: cell))
                }
            }
        }
    }

    /// The shared vault's last refresh of each credential, in fleet mode; a database that
    /// cannot be reached is a warning (this host's view is still shown).
    static func fleetRefreshes(_ context: CommandContext) throws -> (location: String, last: [String: FleetRefresh])? {
        guard try context.sharedVaultURL() != nil else { return nil }
        do {
            let shared = try context.connectSharedVault(for: "tokenrun status")
            return (shared.location, try shared.lastRefreshes())
        } catch let error as TokenrunError {
            Diagnostics.warning("the fleet's refreshes are not shown: \(error.summary)")
            return nil
        }
    }

    static func colour(ofState state: String) -> Colour {
        switch state {
        case "connected": .green
        case "invalid": .red
        default: .yellow
        }
    }

    func expiry(_ report: CredentialReport, now: Int64) -> String {
        guard report.state != "not_logged_in" else { return "-" }
        if report.kind == "api_key" { return "api key" }
        guard report.hasAccessToken, let expiresAt = report.expiresAt else { return "none yet" }
        return expiresAt > now ? "expires \(Timestamp.relative(expiresAt, now: now))" : "expired \(Timestamp.relative(expiresAt, now: now))"
    }

    func note(_ report: CredentialReport) -> String {
        var notes: [String] = []
        if !report.profileExists { notes.append("profile file missing") }
        switch report.state {
        case "not_logged_in": notes.append("tokenrun login -p \(report.profile)")
        case "invalid": notes.append("needs a new login: tokenrun login -p \(report.profile)")
        default:
            if report.kind == "api_key" {
                notes.append("api key; nothing to refresh")
            } else if report.kind == "client_credentials" {
                notes.append("client credentials; fetched again as needed")
            } else if !report.hasRefreshToken {
                notes.append("no refresh token")
            }
        }
        if !report.missingScopes.isEmpty {
            notes.append(
                "needs a new login: the grant lacks \(report.missingScopes.joined(separator: " ")) (tokenrun login -p \(report.profile))")
        }
        if let error = report.lastError { notes.append(error) }
        return notes.joined(separator: "; ")
    }

    struct Row: Encodable {
        let profile: String
        let state: String
        let expires_at: OrNull<String>
        let expires_in: OrNull<Int64>
        let has_refresh_token: Bool
        let scopes: [String]
        let last_error: OrNull<String>
        let profile_exists: Bool
        let kind: String
        let missing_scopes: [String]
        let needs_login: Bool
        /// In fleet mode: the shared vault's last refresh of the credential (null otherwise).
        let last_fleet_refresh: OrNull<FleetRefreshLine>
    }

    func printJSON(_ reports: [CredentialReport], now: Int64, fleet: (location: String, last: [String: FleetRefresh])?) throws {
        let rows = reports.map { report in
            Row(
                profile: report.profile, state: report.state, expires_at: OrNull(report.expiresAt.map(Timestamp.iso8601)),
                expires_in: OrNull(report.expiresAt.map { $0 - now }), has_refresh_token: report.hasRefreshToken,
                scopes: report.scopes, last_error: OrNull(report.lastError), profile_exists: report.profileExists, kind: report.kind,
                missing_scopes: report.missingScopes,
                needs_login: report.state == "invalid" || report.state == "not_logged_in" || !report.missingScopes.isEmpty,
                last_fleet_refresh: OrNull(fleet?.last[report.profile].map(FleetRefreshLine.init)))
        }
        Output.line(try JSONOutput.encode(rows))
    }
}

/// An optional written as null rather than left out, so every object of a kind has the same keys.
struct OrNull<Wrapped: Encodable>: Encodable {
    let value: Wrapped?

    init(_ value: Wrapped?) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// JSON for scripts: sorted keys, one document; absent values are null, never left out.
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One compact line, for JSON-lines output.
    static func line<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
