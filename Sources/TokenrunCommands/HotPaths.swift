// The bodies of `run` and `get`: shared by the small `tokenrun` program's fast
// path and tokenrun-cli's RunCommand and GetCommand, so both programs do the
// same thing with the same words.
import TokenrunKit

/// A value `tokenrun get --field` prints.
public enum GetField: String, CaseIterable, Sendable {
    case accessToken = "access_token"
    case tokenType = "token_type"
    case expiresAt = "expires_at"
    case expiresIn = "expires_in"
    case status, scope, xoauth2
}

public enum HotPaths {
    /// Refreshes, injects, runs `command` and gives its status (or becomes the command).
    public static func launch(
        profiles profile: [String], minTTL: Int64?, force: Bool = false, command: [String], verbose: Bool = false, keepFresh: Bool = false,
        serve: Bool = false, exec: Bool = true
    ) throws -> Int32 {
        Launcher.prepareProcess()
        let context = CommandContext()
        let session = try context.tokens.session(profile)
        let ready = try session.usable(minTTL: minTTL, force: force)
        for warning in ready.warnings { Diagnostics.warning(warning) }
        let log = Verbose(enabled: verbose)
        log.report(ready, now: context.now)
        var launcher = Launcher(
            session: session, ready: ready, paths: context.paths, environment: context.environment,
            audit: context.auditWriter(key: ready.auditKey))
        if verbose { launcher.verbose = { log.say($0) } }
        launcher.keeperEvents = { show($0, log: log) }
        return try launcher.run(
            LaunchPlan(profiles: profile, command: command, keepFresh: keepFresh, serve: serve, execInPlace: exec), now: context.now)
    }

    /// What the file keeper says: rewrites only with --verbose; warnings and a dead grant always.
    static func show(_ event: KeeperEvent, log: Verbose) {
        switch event {
        case .rewrote(let profile, let count, let expiresIn):
            log.say("\(profile): refreshed; rewrote \(count) file\(count == 1 ? "" : "s"), valid for \(DurationParser.format(expiresIn))")
        case .warning(let text):
            Diagnostics.warning(text)
        case .gaveUp(_, let error):
            Diagnostics.report(error)
            Diagnostics.notice("the command keeps running; its files keep the current token until it expires")
        }
    }

    /// A usable credential of one profile, and its values as the profile renders them.
    public struct Value {
        public let values: [String: String]
        public let credential: Credential
        public let now: Int64
    }

    /// The usable credential of `profile`, refreshed first if needed; records a `get`
    /// (`detail`: the field, or "json").
    public static func value(profile: String, detail: String, xoauth2: Bool, minTTL: Int64?, force: Bool, verbose: Bool) throws -> Value {
        let context = CommandContext()
        // XOAUTH2 names the account: without a username the string would be refused by the server.
        if xoauth2, try context.profiles.load(profile).username == nil {
            throw TokenrunError.profileIncomplete(
                profile: profile, missing: "username, the mail account that XOAUTH2 names (username = \"you@example.com\")")
        }
        let ready = try context.tokens.usable([profile], minTTL: minTTL, force: force)
        for warning in ready.warnings { Diagnostics.warning(warning) }
        Verbose(enabled: verbose).report(ready, now: context.now)
        let injection = ready.injections[0]
        let now = context.now
        var record = AuditRecord(event: "get", profiles: [profile])
        record.detail = detail
        context.record(record, key: ready.auditKey)
        return Value(values: RenderedInjection(injection, now: now).values, credential: injection.credential, now: now)
    }

    /// Prints one field of a usable credential.
    public static func printValue(profile: String, field: GetField, minTTL: Int64?, force: Bool = false, verbose: Bool = false) throws {
        let got = try value(
            profile: profile, detail: field.rawValue, xoauth2: field == .xoauth2, minTTL: minTTL, force: force, verbose: verbose)
        switch field {
        case .status: Output.line(got.credential.state.rawValue)
        default: Output.line(got.values[field.rawValue] ?? "")
        }
    }
}
