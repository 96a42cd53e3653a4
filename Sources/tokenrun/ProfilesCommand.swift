import ArgumentParser
import TokenrunKit

struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and validate profiles.",
        discussion: """
            Profiles are looked up in each directory of TOKENRUN_PROFILE_PATH, then \
            $XDG_CONFIG_HOME/tokenrun/profiles/NAME.toml, then the built-ins (google, \
            gmail, microsoft, outlook, github, generic).

            As ssh trusts its config: relative TOKENRUN_PROFILE_PATH entries are not \
            searched (a warning names them), and a profile file or its directory that \
            is writable by group or others, or owned by anyone but you or root, is \
            refused (exit 78) with the chmod that fixes it.
            """,
        subcommands: [ProfilesList.self, ProfilesShow.self, ProfilesValidate.self]
    )
}

struct ProfilesList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every profile with its source and description.")

    @Flag(help: "Print JSON.")
    var json = false

    struct Row: Encodable {
        let name: String
        let source: String
        let description: OrNull<String>
        let error: OrNull<String>
    }

    func run() throws {
        try Diagnostics.run {
            let store = CommandContext().profiles
            var rows: [Row] = []
            for candidate in store.effectiveCandidates() {
                do {
                    let profile = try store.resolve(candidate)
                    rows.append(
                        Row(
                            name: candidate.name, source: candidate.sourceLabel, description: OrNull(profile.description),
                            error: OrNull(nil)))
                } catch let error as TokenrunError {
                    rows.append(
                        Row(name: candidate.name, source: candidate.sourceLabel, description: OrNull(nil), error: OrNull(error.summary)))
                }
            }
            if json {
                Output.line(try JSONOutput.encode(rows))
                return
            }
            Output.table(
                [["NAME", "SOURCE", "DESCRIPTION"]]
                    + rows.map { row in
                        [row.name, row.source, row.error.value.map { "INVALID: \($0)" } ?? row.description.value ?? ""]
                    })
        }
    }
}

struct ProfilesShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a profile after `extends` is resolved, with secrets masked."
    )

    @Argument(help: "The profile name.", completion: ProfileCompletion.kind)
    var name: String

    @Flag(help: "Print JSON (the client secret as client_secret_set only).")
    var json = false

    func run() throws {
        try Diagnostics.run {
            let profile = try CommandContext().profiles.load(name)
            Output.line(json ? try JSONOutput.encode(Report(profile)) : ProfileRendering.toml(profile))
        }
    }

    /// The resolved profile for scripts; never the client secret itself.
    struct Report: Encodable {
        struct OAuth: Encodable {
            let token_endpoint: OrNull<String>
            let authorization_endpoint: OrNull<String>
            let device_authorization_endpoint: OrNull<String>
            let revocation_endpoint: OrNull<String>
            let client_id: OrNull<String>
            let client_secret_set: Bool
            let client_secret_env: OrNull<String>
            let auth_method: OrNull<String>
            let grant_type: String
            let scopes: [String]
            let authorization_params: [String: String]
            let redirect_host: OrNull<String>
            let redirect_port: OrNull<Int>
        }
        struct Refresh: Encodable {
            let window_seconds: Int64
            let on_refresh_signal: OrNull<String>
        }
        struct File: Encodable {
            let path_env: String
            let template: String
            let name: OrNull<String>
        }
        let name: String
        let source: String
        let chain: [String]
        let description: OrNull<String>
        let username: OrNull<String>
        let kind: String
        let expose_refresh_token: Bool
        let exec: Bool
        let on_reauth_required: OrNull<String>
        let oauth: OAuth
        let refresh: Refresh
        let env: [String: String]
        let files: [File]

        init(_ profile: Profile) {
            name = profile.name
            source = profile.source
            chain = profile.chain
            description = OrNull(profile.description)
            username = OrNull(profile.username)
            kind = profile.kind.rawValue
            expose_refresh_token = profile.exposeRefreshToken
            exec = profile.execInPlace
            on_reauth_required = OrNull(profile.onReauthRequired)
            let o = profile.oauth
            oauth = OAuth(
                token_endpoint: OrNull(o.tokenEndpoint), authorization_endpoint: OrNull(o.authorizationEndpoint),
                device_authorization_endpoint: OrNull(o.deviceAuthorizationEndpoint), revocation_endpoint: OrNull(o.revocationEndpoint),
                client_id: OrNull(o.clientID), client_secret_set: o.clientSecret != nil, client_secret_env: OrNull(o.clientSecretEnv),
                auth_method: OrNull(o.authMethod?.rawValue), grant_type: profile.grantType.rawValue, scopes: o.scopes,
                authorization_params: o.authorizationParams, redirect_host: OrNull(o.redirectHost), redirect_port: OrNull(o.redirectPort))
            refresh = Refresh(window_seconds: profile.refreshWindow, on_refresh_signal: OrNull(profile.onRefreshSignal))
            env = Dictionary(profile.env.map { ($0.name, $0.template.source) }, uniquingKeysWith: { $1 })
            files = profile.files.map { File(path_env: $0.pathEnv, template: $0.template.source, name: OrNull($0.name)) }
        }
    }
}

struct ProfilesValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every profile, or one file, and report each problem with its line.",
        discussion: "Exits 78 if any profile is invalid."
    )

    @Argument(help: "A profile file to check instead of all profiles.")
    var file: String?

    func run() throws {
        try Diagnostics.run {
            let store = CommandContext().profiles
            if let file {
                _ = try store.load(file: file)
                Output.line("ok  \(file)")
                return
            }
            var failures = 0
            for candidate in store.allCandidates() {
                do {
                    _ = try store.resolve(candidate)
                    Output.line("ok  \(candidate.name)  (\(candidate.sourceLabel))")
                } catch let error as TokenrunError {
                    failures += 1
                    Diagnostics.report(error)
                }
            }
            if failures > 0 {
                Diagnostics.notice("\(failures) invalid profile\(failures == 1 ? "" : "s")")
                throw ExitCode(ExitStatus.configuration.rawValue)
            }
        }
    }
}
