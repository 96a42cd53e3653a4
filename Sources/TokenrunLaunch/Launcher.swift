// The main job, from fresh tokens to the child's exit: write the [[file]]s,
// start the keeper and the token server when the plan wants them, build the
// environment, record the launch, run the child, record how it ended and pass
// its status on — or die of the signal that killed it, after cleaning up, so
// a shell sees the death (bash stops a loop only when its child died of
// SIGINT). When nothing needs tokenrun once the command has started (no
// [[file]] to remove, no keeper, no token server) and neither `--no-exec` nor
// a profile's `exec = false` asks to wait, tokenrun becomes the command
// instead (execve in place, as `env` does): the same pid, the caller's
// signals and the command's status directly, and no exit record (the launch
// record says `exec`). The executable parses arguments and prints what this
// reports.
import TokenrunAudit
import TokenrunProfiles
import TokenrunRefresh
import TokenrunServers
import TokenrunSupport

/// What to launch, as the command line asked for it.
public struct LaunchPlan: Sendable {
    /// The profiles as named on the command line (the audit records name them so).
    public var profiles: [String]
    public var command: [String]
    /// Refresh while the child runs even without [[file]]s (`--keep-fresh`).
    public var keepFresh: Bool
    /// Serve tokens on 127.0.0.1 even when no profile asks for it (`--serve`).
    public var serve: Bool
    /// Replace tokenrun with the command when nothing needs tokenrun afterwards (false: `--no-exec`).
    public var execInPlace: Bool

    public init(profiles: [String], command: [String], keepFresh: Bool = false, serve: Bool = false, execInPlace: Bool = true) {
        self.profiles = profiles
        self.command = command
        self.keepFresh = keepFresh
        self.serve = serve
        self.execInPlace = execInPlace
    }
}

/// Runs a `LaunchPlan` with the tokens a `TokenService.Session` made ready.
public struct Launcher {
    let session: TokenService.Session
    let ready: TokenService.Result
    let paths: Paths
    let inherited: [String: String]
    let audit: AuditWriter
    /// `--verbose` lines: names, paths and times, never a secret (nil: none are even made).
    public var verbose: ((String) -> Void)?
    /// What the file keeper has to say while the child runs.
    public var keeperEvents: (KeeperEvent) -> Void = { _ in }

    public init(
        session: TokenService.Session, ready: TokenService.Result, paths: Paths, environment inherited: [String: String],
        audit: AuditWriter
    ) {
        self.session = session
        self.ready = ready
        self.paths = paths
        self.inherited = inherited
        self.audit = audit
    }

    /// Blocks the signals tokenrun forwards; call it before anything can start a thread,
    /// so that every thread inherits the mask.
    public static func prepareProcess() { ChildProcess.blockSignals() }

    /// Runs `plan` and returns the child's exit status; if a signal killed the child,
    /// cleans up and dies of the same signal instead.
    public func run(_ plan: LaunchPlan, now: Int64) throws -> Int32 {
        let rendered = ready.injections.map { RenderedInjection($0, now: now) }
        var files: PrivateFiles?
        defer { files?.remove() }
        var filePaths: [String: [String: String]] = [:]
        for injection in rendered where !injection.profile.files.isEmpty {
            if files == nil { files = try PrivateFiles(base: PrivateFiles.base(paths: paths)) }
            for (file, contents) in injection.files() {
                filePaths[injection.profile.name, default: [:]][file.pathEnv] = try files!.write(name: file.name, contents: contents)
            }
        }
        var keeper: FileKeeper?
        if plan.keepFresh || files != nil {
            keeper = FileKeeper(session: session, injections: ready.injections, privateFiles: files, now: now)
            keeper?.report = keeperEvents
        }
        var environment = try ChildEnvironment.build(inherited: inherited, rendered: rendered, filePaths: filePaths)
        let serving = plan.serve || ready.injections.contains(where: \.profile.serveTokens)
        let inPlace = plan.execInPlace && files == nil && keeper == nil && !serving && ready.injections.allSatisfy(\.profile.execInPlace)
        if serving {
            let session = session
            let profiles = session.profiles
            let server = try TokenServer { name in
                let profile = profiles.first { $0.name == name } ?? profiles[0]
                return (try session.usable(profile, minTTL: nil).0, profile)
            }
            server.start()
            environment.merge(server.environment) { _, served in served }
            verbose?("token server on 127.0.0.1:\(server.port) (TOKENRUN_TOKEN_URL, GCE_METADATA_HOST)")
        }
        if let verbose {
            describe(environment, verbose)
            for (profile, paths) in filePaths.sorted(by: { $0.key < $1.key }) {
                for (variable, path) in paths.sorted(by: { $0.key < $1.key }) { verbose("\(profile): file \(variable)=\(path)") }
            }
        }

        if let signal = ChildProcess.pendingTerminationSignal() {
            files?.remove()
            ChildProcess.dieOfSignal(signal)
        }
        let name = plan.command[0].baseName
        var launch = AuditRecord(event: "launch", profiles: plan.profiles)
        launch.command = name
        if inPlace { launch.exec = true }
        let launched = audit.record(launch)
        var ended = AuditRecord(event: "exit", profiles: plan.profiles)
        ended.command = name
        let started = Monotonic.milliseconds()
        let exit: ChildExit
        do {
            if inPlace {
                verbose?("\(name): runs in tokenrun's place (exec: no exit record; --no-exec waits for it)")
                try ChildProcess.execInPlace(plan.command, environment: environment)
            }
            exit = try ChildProcess.run(plan.command, environment: environment, tick: keeper.map { keeper in { keeper.tick(child: $0) } })
        } catch let error as TokenrunError {
            ended.status = error.exitCode
            ended.detail = error.summary
            audit.record(ended, after: launched)
            throw error
        }
        files?.remove()
        verbose?("\(name) ended: status \(exit.shellStatus)")
        ended.durationMs = Int(Monotonic.milliseconds() - started)
        switch exit {
        case .exited(let code): ended.status = code
        case .signaled(let signal):
            ended.signal = signal
            ended.status = 128 + signal
        }
        audit.record(ended, after: launched)
        if case .signaled(let signal) = exit { ChildProcess.dieOfSignal(signal) }
        return exit.shellStatus
    }

    /// `--verbose`: which variables the child gets that it did not inherit, and which it loses.
    func describe(_ environment: [String: String], _ verbose: (String) -> Void) {
        let set = environment.keys.filter { environment[$0] != inherited[$0] }.sorted()
        let removed = inherited.keys.filter { environment[$0] == nil }.sorted()
        verbose("child environment: sets \(set.joined(separator: " "))")
        if !removed.isEmpty { verbose("child environment: removes \(removed.joined(separator: " "))") }
    }
}
