import ArgumentParser
import TokenrunKit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command with fresh access tokens in its environment (the default command).",
        discussion: """
            tokenrun -p gmail -- python sync.py

            Refreshes each profile's access token if it is inside its refresh window \
            (or shorter-lived than --min-ttl), renders the profile's [env] into the \
            command's environment and writes each [[file]] (mode 600) into a private \
            directory that is removed when the command ends. The command also gets \
            TOKENRUN_PROFILE and TOKENRUN_EXPIRES_AT (seconds since 1970); key-source \
            variables (TOKENRUN_KEY_FILE, TOKENRUN_PASSPHRASE and the like) are removed.

            When nothing needs tokenrun once the command has started (no [[file]], \
            no --keep-fresh, no token server), tokenrun records the launch and then \
            becomes the command (exec, as env does): same pid, signals straight to \
            it, its status as tokenrun's; the audit trail then has no exit record \
            (tokenrun log shows "exec"). --no-exec, or exec = false in a profile, \
            waits for the command instead and records how it ended.

            Concurrent launches refresh a credential once: the refresh holds that \
            credential's lease (vault.leases/NAME.lock) and the others wait for it, at \
            most the HTTP timeout plus the retry budget, then use its token; other \
            profiles never wait. A refresh token goes only to the token endpoint and \
            client id it was issued for: a profile that names others exits 78 before \
            any request (tokenrun login -p NAME if the change is intended).

            Exit status: the command's own; if signal N killed it, tokenrun cleans up \
            and dies of the same signal (a shell sees 128+N, and a loop stops on Ctrl-C); \
            127/126 if it cannot be found/executed; 75 provider unavailable and the token expired \
            (retry later); 77 the refresh token is dead (tokenrun login -p NAME); 78 \
            configuration.
            """
    )

    @Option(name: .shortAndLong, help: "A profile to inject (repeatable).", completion: ProfileCompletion.kind)
    var profile: [String] = []

    @OptionGroup var ttl: MinTTLOption

    @Flag(name: .shortAndLong, help: "Say on stderr what tokenrun decides (names and times, never a secret).")
    var verbose = false

    @Flag(
        name: .customLong("keep-fresh"),
        help: "Refresh before each token's window for as long as the command runs (always on for profiles with [[file]]).")
    var keepFresh = false

    @Flag(
        help: ArgumentHelp(
            "Serve fresh tokens to the command on 127.0.0.1 (TOKENRUN_TOKEN_URL with TOKENRUN_TOKEN_SECRET; GCE_METADATA_HOST for Google's libraries)."
        ))
    var serve = false

    @Flag(
        name: .customLong("no-exec"),
        help: ArgumentHelp(
            "Wait for the command and record its exit, instead of running it in tokenrun's place (as a profile's exec = false)."
        ))
    var noExec = false

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !profile.isEmpty else { throw ValidationError("name at least one profile: tokenrun -p NAME -- COMMAND") }
        guard !command.isEmpty else { throw ValidationError("give the command to run after --: tokenrun -p \(profile[0]) -- COMMAND") }
        try RepeatedProfiles.check(profile)
    }

    func run() throws {
        try Self.launch(
            profiles: profile, minTTL: ttl.seconds, force: ttl.refresh, command: command, verbose: verbose, keepFresh: keepFresh,
            serve: serve, exec: !noExec)
    }

    /// Refreshes, injects, runs `command` and passes its status on (thrown as ExitCode).
    static func launch(
        profiles profile: [String], minTTL: Int64?, force: Bool = false, command: [String], verbose: Bool = false, keepFresh: Bool = false,
        serve: Bool = false, exec: Bool = true
    ) throws {
        Launcher.prepareProcess()
        try Diagnostics.run {
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
            launcher.keeperEvents = { Self.show($0, log: log) }
            let status = try launcher.run(
                LaunchPlan(profiles: profile, command: command, keepFresh: keepFresh, serve: serve, execInPlace: exec), now: context.now)
            if status != 0 { throw ExitCode(status) }
        }
    }
}

extension RunCommand {
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
}
