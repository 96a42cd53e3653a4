// Keeping a long-running child supplied. An environment variable
// is frozen at launch, a file is not: while the child lives, tokenrun wakes
// before each token enters its refresh window, refreshes it through the same
// single-flight path as every launch, and rewrites the profile's files
// atomically (temporary file and rename: a reader sees the old token or the
// new one, never part of either), then sends the profile's on_refresh_signal.
// A transient failure is retried with backoff while the old token is valid; a
// dead refresh token is reported once and the child is left running.
import TokenrunProfiles
import TokenrunRefresh
import TokenrunSupport
import TokenrunVault

/// What the keeper has to say; the command prints it.
public enum KeeperEvent: Sendable {
    case rewrote(profile: String, files: Int, expiresIn: Int64)
    case warning(String)
    /// The refresh token is dead: the files keep the current token until it expires.
    case gaveUp(profile: String, error: TokenrunError)
}

/// One file of a profile: its name in the private directory, its variable and its template.
public struct RenderedFile: Sendable {
    public let name: String
    public let pathEnv: String
    public let template: Template

    /// The files of `profile`, named as the child will see them.
    public static func files(of profile: Profile) -> [RenderedFile] {
        zip(profile.files, profile.fileNames).map { file, name in
            RenderedFile(name: name, pathEnv: file.pathEnv, template: file.template)
        }
    }
}

/// Refreshes and rewrites for as long as the child runs.
public final class FileKeeper {
    struct Kept {
        let profile: Profile
        let files: [RenderedFile]
        var credential: Credential
        var due: Int64
        var failures = 0
        var dead = false
    }

    let session: TokenService.Session
    let privateFiles: PrivateFiles?
    var kept: [Kept]
    public var clock: () -> Int64 = { ProcessEnvironment.now() }
    public var report: (KeeperEvent) -> Void = { _ in }

    /// Keeps the given injections fresh; files are rewritten in `privateFiles`.
    public init(session: TokenService.Session, injections: [Injection], privateFiles: PrivateFiles?, now: Int64) {
        self.session = session
        self.privateFiles = privateFiles
        kept = injections.map { injection in
            Kept(
                profile: injection.profile, files: RenderedFile.files(of: injection.profile), credential: injection.credential,
                due: Self.due(injection.credential, window: injection.profile.refreshWindow, now: now))
        }
    }

    /// When the token enters its refresh window (as RefreshPolicy decides), never sooner than a second from now.
    static func due(_ credential: Credential, window: Int64, now: Int64) -> Int64 {
        guard let expiresAt = credential.expiresAt else { return Int64.max }
        var lead = window
        if let issuedAt = credential.issuedAt, expiresAt > issuedAt { lead = min(window, (expiresAt - issuedAt) / 2) }
        return max(now + 1, expiresAt - lead)
    }

    /// The earliest moment something is due (for tests and for sleeping).
    public var nextDue: Int64? { kept.filter { !$0.dead }.map(\.due).min() }

    /// Does what is due; `child` gets the profile's signal after a rewrite.
    public func tick(child: Int32) {
        let now = clock()
        for index in kept.indices where !kept[index].dead && kept[index].due <= now {
            refresh(index, child: child, now: now)
        }
    }

    func refresh(_ index: Int, child: Int32, now: Int64) {
        let profile = kept[index].profile
        do {
            let (credential, outcome, warnings) = try session.usable(profile, minTTL: nil)
            for warning in warnings { report(.warning(warning)) }
            let changed = credential.accessToken != kept[index].credential.accessToken
            if changed {
                try rewrite(kept[index].files, profile: profile, credential: credential, now: now)
                if let name = profile.onRefreshSignal, let signal = ChildSignals.number(name) { kill(child, signal) }
                report(.rewrote(profile: profile.name, files: kept[index].files.count, expiresIn: (credential.expiresAt ?? now) - now))
            }
            kept[index].credential = credential
            if case .staleButValid = outcome {
                kept[index].failures += 1
                kept[index].due = min(now + Self.backoff(kept[index].failures), credential.expiresAt ?? Int64.max)
            } else {
                kept[index].failures = 0
                kept[index].due = max(Self.due(credential, window: profile.refreshWindow, now: now), changed ? now + 1 : now + 5)
            }
        } catch let error as TokenrunError where error.exitStatus == .reconsentNeeded {
            kept[index].dead = true
            report(.gaveUp(profile: profile.name, error: error))
        } catch {
            kept[index].failures += 1
            kept[index].due = now + Self.backoff(kept[index].failures)
            let text = (error as? TokenrunError)?.summary ?? "\(error)"
            report(.warning("keeping \(profile.name) fresh: \(text); trying again in \(DurationParser.format(kept[index].due - now))"))
        }
    }

    func rewrite(_ files: [RenderedFile], profile: Profile, credential: Credential, now: Int64) throws {
        guard let privateFiles else { return }
        let values = TemplateValues.values(profile: profile, credential: credential, now: now)
        for file in files { try privateFiles.rewrite(name: file.name, contents: file.template.render(values)) }
    }

    /// 5 s, 10 s, 20 s … up to a minute.
    static func backoff(_ failures: Int) -> Int64 { min(60, 5 << Int64(min(failures - 1, 4))) }
}

#if canImport(Glibc)
    import Glibc
#endif
