import ArgumentParser
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Obtain a credential for a profile and seal it in the vault.",
        discussion: """
            The flow follows the profile:
              authorization code (default): tokenrun listens on 127.0.0.1 (a free port, or \
            oauth.redirect_port), prints the authorization URL and opens it in a browser \
            ($BROWSER, or xdg-open when there is a display); after consent the browser comes \
            back to tokenrun, which checks the state, redeems the code with PKCE (S256) and \
            stores the result.
              device code (--device, or grant_type = "device_code"): shows a URL and a code to \
            enter on any device, and waits for the approval.
              client credentials (grant_type = "client_credentials"): fetches a token for the \
            client itself; no person, no refresh token.
              API key (kind = "api_key"): asks for the key without echo (or reads one line \
            from standard input), and seals it.

            A profile that is already connected is left alone unless --force is given.

            Exit status: 0 logged in; 75 provider unreachable; 77 consent refused, expired or \
            timed out; 78 profile or client misconfigured, or no refresh token returned.
            """
    )

    @Option(name: .shortAndLong, help: "The profile to log in.", completion: ProfileCompletion.kind)
    var profile: String

    @Flag(help: "Use the device authorization flow (for machines without a browser).")
    var device = false

    @Flag(name: .customLong("no-browser"), help: "Only print the authorization URL; do not start a browser.")
    var noBrowser = false

    @Flag(help: "Replace a credential that still works.")
    var force = false

    @Option(help: "How long to wait for the browser or device approval (\"300s\", \"5m\").")
    var timeout = "5m"

    func validate() throws {
        guard let seconds = DurationParser.seconds(timeout), seconds > 0 else {
            throw ValidationError("--timeout: expected a duration such as \"90s\" or \"5m\", found \"\(timeout)\"")
        }
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            let profile = try context.profiles.load(self.profile)
            let vault = try context.unlockOrCreateVault()
            let existing = try vault.credential(for: profile.name)
            if let existing, !force, let reason = Self.stillGood(existing, profile: profile, now: context.now) {
                Output.line("\(profile.name) is already logged in (\(reason)); nothing to do")
                Diagnostics.notice("to replace the credential anyway: tokenrun login -p \(profile.name) --force")
                return
            }
            if let existing, !force, case let missing = profile.scopesMissing(from: existing), !missing.isEmpty {
                Diagnostics.notice("the stored grant lacks \(missing.joined(separator: " ")); logging in again")
            }
            let credential: Credential
            do {
                credential = try obtain(profile, existing: existing, context: context)
            } catch let error as TokenrunError {
                var record = AuditRecord(event: "login", profiles: [profile.name])
                record.outcome = "failed"
                record.errorClass = "\(error.exitStatus)"
                context.record(record, vault: vault)
                throw error
            }
            try vault.store(credential)
            var record = AuditRecord(event: "login", profiles: [profile.name])
            record.outcome = existing == nil ? "stored" : "replaced"
            record.detail = credential.obtainedBy
            context.record(record, vault: vault)
            Output.line(summary(credential, profile: profile, now: context.now))
        }
    }

    /// Why an existing credential needs no new login, or nil when it does.
    static func stillGood(_ credential: Credential, profile: Profile, now: Int64) -> String? {
        guard credential.state == .connected, profile.scopesMissing(from: credential).isEmpty else { return nil }
        if profile.kind == .apiKey { return credential.accessToken != nil ? "an API key is stored" : nil }
        if credential.refreshToken != nil { return "connected, with a refresh token" }
        if profile.grantType == .clientCredentials { return "connected; tokens are fetched with the client's credentials" }
        return nil
    }

    func obtain(_ profile: Profile, existing: Credential?, context: CommandContext) throws -> Credential {
        if profile.kind == .apiKey { return try readAPIKey(profile, existing: existing, now: context.now) }
        let client = try Refresher.clientCredentials(
            profile: profile, credential: existing ?? Credential(profile: profile.name, updatedAt: 0), environment: context.environment)
        var login = Login(profile: profile, client: client, transport: context.tokens.transport())
        login.limits = TransportLimits(environment: context.environment, network: context.networkConfig(), profile: profile)
        let grant: GrantType = device ? .deviceCode : profile.grantType
        let exchange: TokenExchange
        switch grant {
        case .clientCredentials:
            exchange = try login.clientCredentials()
        case .deviceCode:
            var printer = DeviceProgress(profile: profile.name)
            exchange = try login.device { printer.show($0) }
            printer.finish()
        case .authorizationCode:
            let listener: LoopbackRedirect
            do {
                listener = try LoopbackRedirect(port: profile.oauth.redirectPort ?? 0)
            } catch {
                throw TokenrunError.loginFailed(
                    profile: profile.name, reason: Self.describe(error),
                    hint: profile.oauth.redirectPort.map {
                        "stop what listens on port \($0) (ss -ltnp 'sport = :\($0)'), then log in again"
                    })
            }
            exchange = try login.authorizationCode(
                listener: listener, redirectHost: profile.oauth.redirectHost ?? "127.0.0.1", pkce: try PKCE.generate(),
                timeoutSeconds: DurationParser.seconds(timeout) ?? 300
            ) { event in
                guard case .authorizationURL(let url) = event else { return }
                Diagnostics.notice("to log in to \(profile.name), open this URL in a browser:")
                Diagnostics.writeStderr("\n    \(url)\n\n")
                if !noBrowser, let opened = Browser.open(url, environment: context.environment) {
                    Diagnostics.notice("started \(opened); waiting for the login to finish (Ctrl-C to stop)")
                } else {
                    Diagnostics.notice(
                        "waiting for the browser to come back to \(listener.redirectURI(host: profile.oauth.redirectHost ?? "127.0.0.1")) (Ctrl-C to stop)"
                    )
                }
            }
        }
        if let skew = exchange.clockSkew, abs(skew) > 60 {
            Diagnostics.warning(
                "the local clock is \(abs(skew)) s \(skew > 0 ? "behind" : "ahead of") the token endpoint's; sync it (timedatectl set-ntp true)"
            )
        }
        return Login.credential(from: exchange, profile: profile, grantType: grant, previous: existing)
    }

    static func describe(_ error: LoopbackRedirect.Failure) -> String {
        switch error {
        case .portInUse(let port): "port \(port) on 127.0.0.1 is in use, so the login redirect cannot be received"
        case .cannotListen(let why): "cannot listen on 127.0.0.1 for the login redirect: \(why)"
        case .timedOut: "timed out"
        }
    }

    func readAPIKey(_ profile: Profile, existing: Credential?, now: Int64) throws -> Credential {
        let bytes: [UInt8]
        if Terminal.isTerminal(0) {
            guard let key = try Terminal.readSecret(prompt: "API key for \(profile.name) (input hidden): ") else {
                throw TokenrunError.invalidCredentialInput("no API key entered")
            }
            bytes = Array((key.utf8String() ?? "").utf8)
        } else {
            guard let read = Terminal.readStandardInput(limit: CredentialImport.inputLimit) else {
                throw TokenrunError.invalidCredentialInput("standard input is longer than \(CredentialImport.inputLimit) bytes")
            }
            bytes = read
        }
        let key = try CredentialImport.parseSingleSecret(bytes, what: "API key")
        var credential = Credential(
            profile: profile.name, accessToken: key, clientSecret: existing?.clientSecret, tokenType: "api_key", state: .connected,
            updatedAt: now)
        credential.obtainedBy = "api_key"
        credential.grantedAt = now
        return credential
    }

    func summary(_ credential: Credential, profile: Profile, now: Int64) -> String {
        if profile.kind == .apiKey { return "stored the API key for \(profile.name); it never expires here and needs no refresh" }
        var text = "logged in to \(profile.name)"
        if let expiresAt = credential.expiresAt { text += "; access token valid for \(DurationParser.format(max(0, expiresAt - now)))" }
        if credential.refreshToken != nil { text += ", refreshed automatically" }
        if !credential.scopes.isEmpty { text += "; scopes: \(credential.scopes.joined(separator: " "))" }
        return text
    }
}

/// Device-flow progress on stderr: a countdown on a terminal, a line a minute otherwise.
struct DeviceProgress {
    let profile: String
    let tty = Terminal.isTerminal(2)
    var lastLine: Int64 = -1

    mutating func show(_ event: LoginEvent) {
        switch event {
        case .deviceCode(let authorization):
            Diagnostics.notice("to log in to \(profile), visit \(authorization.verificationURI)")
            Diagnostics.notice("and enter the code: \(authorization.userCode)")
            if let complete = authorization.verificationURIComplete {
                Diagnostics.notice("(or open \(complete), which carries the code)")
            }
        case .waiting(let left):
            if tty {
                Diagnostics.writeStderr("\rtokenrun: waiting for approval, \(left / 60):\(left % 60 < 10 ? "0" : "")\(left % 60) left ")
            } else if lastLine < 0 || lastLine - left >= 60 {
                lastLine = left
                Diagnostics.notice("waiting for approval (\(left) s left)")
            }
        case .slowDown(let interval):
            clearLine()
            Diagnostics.notice("the provider asked to poll less often; polling every \(interval) s")
        case .retrying(let reason):
            clearLine()
            Diagnostics.warning("\(reason); still polling")
        case .authorizationURL:
            break
        }
    }

    func clearLine() {
        if tty { Diagnostics.writeStderr("\r\u{1B}[K") }
    }

    func finish() { clearLine() }
}
