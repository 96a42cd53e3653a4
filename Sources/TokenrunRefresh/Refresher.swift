// Single-flight refresh. The warm path reads the record without any lock and
// returns. Otherwise the refresh holds the credential's refresh lease
// (RefreshLease.swift) across re-read → token request → write, and the vault's
// write lock only for the write itself: a slow provider delays the launches
// that need this credential and nothing else. Concurrent launches wait for the
// lease (bounded: the HTTP timeout plus the retry budget), wake together when
// it is let go and re-read the record: all but the first find a fresh token
// and make no request — so a rotated refresh token is never sent twice — and a
// holder's transient failure stands for its waiters rather than being retried
// by each in turn. While the lease is held, the signals that end tokenrun wait:
// between the response and the write, a rotated refresh token lives only in
// this process's memory, so nothing else happens in between — the attempts go
// to the audit trail after the write, and a failed write after a rotation is
// retried once and then reported as exactly that.
//
// States: invalid_grant / expired_token / no refresh token → `invalid` (77,
// and later launches fail fast without a request); transient failures are
// retried with exponential backoff and jitter within a time budget, honouring
// Retry-After; then the still-valid token is used with a warning, or the
// record is marked `expired` (75). A credential bound to another issuer than
// its profile names is refused before any request (IssuerBinding).
import TokenrunOAuth
import TokenrunProfiles
import TokenrunSupport
import TokenrunVault

/// Gets a usable access token for a profile, refreshing when needed.
public struct Refresher: Sendable {
    public let vault: UnlockedVault
    /// Made only when a refresh is needed, so the warm path builds no network client.
    public let transport: @Sendable () -> any HTTPTransport
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }
    public var sleep: @Sendable (Double) -> Void = { seconds in Monotonic.sleep(seconds) }
    public var monotonicMs: @Sendable () -> Int64 = { Monotonic.milliseconds() }
    /// At most this many requests per refresh.
    public var maxAttempts = 4
    /// Transient retries stop once this much time has gone.
    public var retryBudgetSeconds = 12.0
    public var environment: [String: String] = [:]
    /// config.toml's `[network]` table, read only when a request is about to be made.
    public var network: @Sendable () -> NetworkSettings = { NetworkSettings() }
    /// Called for every refresh that reached the network (for the audit trail),
    /// once the vault holds its outcome.
    public var onAttempt: @Sendable (RefreshAttempt) -> Void = { _ in }
    /// Called once when a credential turns `invalid` (with the reason), after the vault is written.
    public var onInvalidated: @Sendable (Profile, String) -> Void = { _, _ in }

    public init(vault: UnlockedVault, transport: @escaping @Sendable () -> any HTTPTransport) {
        self.vault = vault
        self.transport = transport
    }

    /// How long a launch waits for another process's refresh of the same credential:
    /// the longest a refresh can hold its lease: its last attempt may start just
    /// inside the retry budget and run to the network helper's own deadline
    /// (HTTPHelper: the total timeout, the connect timeout and 5 s), then write the vault.
    public var leaseWaitSeconds: Double {
        let limits = TransportLimits(environment: environment)
        return retryBudgetSeconds + limits.totalTimeout + limits.connectTimeout + 5 + 3
    }

    /// A credential whose access token satisfies `policy`, and how it was obtained.
    public func usableCredential(for profile: Profile, policy: RefreshPolicy) throws -> (Credential, RefreshOutcome, warnings: [String]) {
        guard let stored = try vault.credentialAsUnlocked(for: profile.name) else { throw TokenrunError.notLoggedIn(profile: profile.name) }
        try Self.failFast(stored, profile: profile)
        if profile.kind == .apiKey {
            guard stored.accessToken != nil else { throw TokenrunError.notLoggedIn(profile: profile.name) }
            return (stored, .fresh, [])
        }
        try IssuerBinding.check(stored, profile: profile)
        if !policy.needsRefresh(stored, now: clock()) {
            return (stored, .fresh, Self.unmeetableMinTTL(stored, policy: policy, profile: profile).map { [$0] } ?? [])
        }
        return try refreshUnderLease(stored, profile: profile, policy: policy)
    }

    /// Takes the credential's lease and refreshes, or waits for the process that holds it.
    func refreshUnderLease(_ stored: Credential, profile: Profile, policy: RefreshPolicy) throws -> (
        Credential, RefreshOutcome, warnings: [String]
    ) {
        let leases = vault.storage.leases
        let deadline = Double(monotonicMs()) / 1000 + leaseWaitSeconds
        while true {
            let left = max(0, deadline - Double(monotonicMs()) / 1000)
            let acquired: LeaseAcquisition
            do {
                acquired = try leases.acquire(profile.name, waitingAtMost: left)
            } catch let error as TokenrunError {
                // A fleet's lease that cannot be had: the token this host has, while it lasts; no request.
                guard let why = Self.sharedVaultOutage(error),
                    let stale = Self.stillValid(stored, profile: profile, because: why, now: clock())
                else { throw error }
                return stale
            }
            switch acquired {
            case .held(let lease):
                // The lease ends (a shared vault's commit) inside the deferral too: a Ctrl-C
                // waits until the refreshed record is where the next launch looks for it.
                return try TerminationSignals.deferred {
                    let result: (Credential, RefreshOutcome, warnings: [String])
                    do {
                        if let shared = lease.sharedRecord { try vault.adopt([shared], from: lease.sharedLocation) }
                        result = try refreshHoldingLease(stored, profile: profile, policy: policy, lease: lease)
                    } catch {
                        _ = lease.finish()
                        throw error
                    }
                    let warnings = lease.finish()
                    return (result.0, result.1, result.warnings + warnings)
                }
            case .releasedByOther:
                if let settled = try settledElsewhere(try reread(profile), since: stored, profile: profile, policy: policy) {
                    return settled
                }
            case .timedOut(let holder):
                let current = try reread(profile)
                if let settled = try settledElsewhere(current, since: stored, profile: profile, policy: policy) { return settled }
                if let stale = Self.stillValid(current, profile: profile, because: "another tokenrun is still refreshing it", now: clock())
                {
                    return stale
                }
                throw TokenrunError.refreshStillInProgress(profile: profile.name, holder: holder, waitedSeconds: Int(leaseWaitSeconds))
            }
        }
    }

    /// After another process let the lease go: its result, when it settles this
    /// launch — a token that satisfies `policy`, or a failure it recorded (which
    /// stands for every waiter rather than being retried by each) — else nil, and
    /// this process takes the lease itself.
    func settledElsewhere(_ current: Credential, since stored: Credential, profile: Profile, policy: RefreshPolicy) throws -> (
        Credential, RefreshOutcome, warnings: [String]
    )? {
        if satisfies(current, since: stored, policy: policy) { return (current, .refreshedElsewhere, []) }
        guard current != stored, current.updatedAt >= stored.updatedAt, let failure = current.lastError else { return nil }
        if let stale = Self.stillValid(current, profile: profile, because: failure, now: clock()) { return stale }
        throw TokenrunError.providerUnavailable(profile: profile.name, reason: failure, attempts: 0)
    }

    /// The record as the vault holds it now (no lock), checked as a launch checks it.
    func reread(_ profile: Profile) throws -> Credential {
        guard let current = try vault.credential(for: profile.name) else { throw TokenrunError.notLoggedIn(profile: profile.name) }
        try Self.failFast(current, profile: profile)
        try IssuerBinding.check(current, profile: profile)
        return current
    }

    /// The current access token with a warning, when no new one can be had now (`why`)
    /// but this one is still valid; nil once it has expired.
    static func stillValid(_ credential: Credential, profile: Profile, because why: String, now: Int64) -> (
        Credential, RefreshOutcome, warnings: [String]
    )? {
        guard let expiresAt = credential.expiresAt, credential.accessToken != nil, expiresAt > now else { return nil }
        let warning =
            "could not refresh \(profile.name): \(why); using the current access token, valid for \(DurationParser.format(expiresAt - now)) more"
        return (credential, .staleButValid(reason: why), [warning])
    }

    /// Whether `current` does for this launch: fresh enough for `policy`, or — for
    /// --refresh — newly refreshed by another process since `stored` was read.
    func satisfies(_ current: Credential, since stored: Credential, policy: RefreshPolicy) -> Bool {
        if policy.force {
            return current != stored && current.state == .connected && current.lastError == nil && current.accessToken != nil
                && current.refreshedAt != stored.refreshedAt
        }
        return !policy.needsRefresh(current, now: clock())
    }

    /// Holding the lease: re-reads the record, refreshes when it still needs it, and
    /// writes the result (the vault's write lock is taken only for that write).
    func refreshHoldingLease(_ stored: Credential, profile: Profile, policy: RefreshPolicy, lease: any RefreshLease) throws -> (
        Credential, RefreshOutcome, warnings: [String]
    ) {
        let current = try reread(profile)
        if satisfies(current, since: stored, policy: policy) {
            return (current, current == stored ? .fresh : .refreshedElsewhere, [])
        }
        var attempts: [RefreshAttempt] = []
        // Audited after the vault write, even when it fails.
        defer { attempts.forEach(onAttempt) }
        var (updated, result, warnings) = refreshLocked(current, profile: profile) { attempts.append($0) }
        if case .success = result { updated = IssuerBinding.bindingIfUnbound(updated, profile: profile) }
        let rotated = updated.refreshToken != nil && updated.refreshToken != current.refreshToken
        let written = try store(updated, over: current, profile: profile, rotated: rotated)
        lease.recordRefresh(outcome: Self.logWord(result), rotated: rotated)
        attempts.forEach(onAttempt)
        attempts = []
        if updated.state == .invalid && current.state != .invalid {
            onInvalidated(profile, updated.lastError ?? "the refresh token was rejected")
        }
        switch result {
        case .failure(let error): throw error
        case .success(let outcome):
            if let note = Self.unmeetableMinTTL(written, policy: policy, profile: profile) { warnings.append(note) }
            return (written, outcome, warnings)
        }
    }

    /// Why a fleet's refresh lease cannot be had, when `error` says so (the database is down,
    /// its helper missing, no URL for a fleet's copy); nil for any other error.
    static func sharedVaultOutage(_ error: TokenrunError) -> String? {
        switch error {
        case .sharedVaultUnavailable(let location, let reason): "the shared vault \(location) cannot be reached (\(reason))"
        case .sharedVaultNotConfigured(_, let sharedWith): "this vault is a copy of the shared vault \(sharedWith) and no URL for it is set"
        case .databaseHelperMissing(let path): "tokenrun's database helper \(path) cannot be started"
        default: nil
        }
    }

    /// How a refresh ended, in a word or two, for a shared vault's log of who refreshed.
    static func logWord(_ result: Result<RefreshOutcome, TokenrunError>) -> String {
        switch result {
        case .success: "refreshed"
        case .failure(let error):
            switch error.exitStatus {
            case .reconsentNeeded: "refresh token rejected"
            case .temporaryFailure: "provider unavailable"
            default: "failed"
            }
        }
    }

    /// Writes the refresh's result over `base`, unless something else replaced the
    /// grant meanwhile (a login or an import: another refresh token; a revoke: no
    /// record): that newer grant stands, and this launch still uses the token it got.
    /// A change that kept the grant (git-credential erase dropping the access token)
    /// is written over: the rotated refresh token must not be lost. A failed write of a rotated
    /// refresh token is tried once more, then reported as exactly that.
    func store(_ updated: Credential, over base: Credential, profile: Profile, rotated: Bool) throws -> Credential {
        if updated == base { return updated }
        var tries = 0
        while true {
            do {
                try vault.updateCredential(for: profile.name) { now in
                    guard let now, now.refreshToken == base.refreshToken else { return nil }
                    return updated
                }
                return updated
            } catch {
                tries += 1
                guard rotated else { throw error }
                if tries < 2 { continue }
                let reason = (error as? TokenrunError)?.summary ?? "\(error)"
                throw TokenrunError.rotatedTokenNotSaved(profile: profile.name, reason: reason)
            }
        }
    }

    /// A warning when `--min-ttl` asks for more life than the provider gives a token:
    /// the launch refreshed once, and the policy will not refresh for it again.
    static func unmeetableMinTTL(_ credential: Credential, policy: RefreshPolicy, profile: Profile) -> String? {
        guard let minTTL = policy.minTTL, RefreshPolicy.providerCannotMeet(minTTL, credential),
            let lifetime = RefreshPolicy.issuedLifetime(credential)
        else { return nil }
        return
            "the provider issues tokens of \(profile.name) for \(DurationParser.format(lifetime)), so --min-ttl \(DurationParser.format(minTTL)) can never be met; it refreshes them as its window says instead"
    }

    /// Throws at once, without any request, for a credential already known dead.
    static func failFast(_ credential: Credential, profile: Profile) throws {
        if credential.state == .invalid { throw reconsent(credential, profile: profile) }
    }

    static func reconsent(_ credential: Credential, profile: Profile) -> TokenrunError {
        .refreshTokenDead(profile: profile.name, reason: credential.lastError ?? "the refresh token was rejected earlier")
    }

    /// Runs the grant with retries; returns the record to store and the result.
    /// `record` keeps each attempt for the audit trail, which is written after the vault.
    func refreshLocked(_ current: Credential, profile: Profile, record: (RefreshAttempt) -> Void) -> (
        Credential, Result<RefreshOutcome, TokenrunError>, [String]
    ) {
        var next = current
        let now = clock()
        let usesClientCredentials = profile.grantType == .clientCredentials
        let refreshToken = current.refreshToken
        if refreshToken == nil && !usesClientCredentials {
            next.state = .invalid
            next.lastError = "no refresh token is stored"
            next.updatedAt = now
            return (next, .failure(.refreshTokenDead(profile: profile.name, reason: "no refresh token is stored for it")), [])
        }
        let client: ClientCredentials
        let endpoint: TokenEndpoint
        var configNotes: [String] = []
        do {
            client = try Self.clientCredentials(profile: profile, credential: current, environment: environment)
            guard let url = profile.oauth.tokenEndpoint else {
                throw TokenrunError.profileIncomplete(profile: profile.name, missing: "oauth.token_endpoint")
            }
            var made = TokenEndpoint(url: url, transport: transport())
            made.clock = clock
            let settings = network()
            configNotes = settings.problem.map { [$0] } ?? []
            made.limits = TransportLimits(environment: environment, network: settings.config, profile: profile)
            endpoint = made
        } catch let error as TokenrunError {
            return (current, .failure(error), [])
        } catch {
            return (current, .failure(.crypto("\(error)")), [])
        }

        let started = monotonicMs()
        var attempt = 0
        var lastFailure = TokenEndpointFailure(.transient(reason: "no attempt was made", retryAfter: nil))
        while attempt < maxAttempts {
            attempt += 1
            let attemptStart = monotonicMs()
            do {
                let exchange: TokenExchange
                if let refreshToken {
                    exchange = try endpoint.attemptRefresh(refreshToken, client: client)
                } else {
                    exchange = try endpoint.attemptClientCredentials(scopes: profile.oauth.scopes, client: client)
                }
                let grant = exchange.grant
                next.accessToken = grant.accessToken
                next.tokenType = grant.tokenType
                next.issuedAt = exchange.receivedAt
                next.expiresAt = exchange.receivedAt + (grant.expiresIn ?? TokenGrant.assumedLifetime)
                let rotated = grant.refreshToken != nil && grant.refreshToken != refreshToken
                if let newRefresh = grant.refreshToken { next.refreshToken = newRefresh }
                if let scope = grant.scope { next.scopes = scope.split(separator: " ").map(String.init) }
                if let idToken = grant.idToken { next.idToken = idToken }
                next.state = .connected
                next.lastError = nil
                next.clockSkew = exchange.clockSkew
                next.updatedAt = exchange.receivedAt
                next.refreshedAt = exchange.receivedAt
                var notes = configNotes
                if let skew = exchange.clockSkew, abs(skew) > 60 {
                    notes.append(
                        "the local clock is \(abs(skew)) s \(skew > 0 ? "behind" : "ahead of") the token endpoint's; sync the clock (timedatectl set-ntp true)"
                    )
                }
                let latency = Int(monotonicMs() - attemptStart)
                record(
                    RefreshAttempt(
                        profile: profile.name, outcome: "ok", errorClass: nil, latencyMs: latency, rotated: rotated, attempts: attempt))
                return (next, .success(.refreshed(rotated: rotated, latencyMs: latency)), notes)
            } catch {
                lastFailure = error
                // The provider rotated even though the rest of its answer is unusable: the old token is spent.
                let rotated = error.refreshToken != nil && error.refreshToken != refreshToken
                if let newRefresh = error.refreshToken { next.refreshToken = newRefresh }
                let latency = Int(monotonicMs() - attemptStart)
                record(
                    RefreshAttempt(
                        profile: profile.name, outcome: "failed", errorClass: error.error.errorClass, latencyMs: latency, rotated: rotated,
                        attempts: attempt, httpStatus: error.httpStatus))
                guard case .transient(_, let retryAfter) = error.error, error.refreshToken == nil else { break }
                let elapsed = Double(monotonicMs() - started) / 1000
                let backoff = Self.backoff(attempt: attempt, retryAfter: retryAfter)
                if attempt >= maxAttempts || elapsed + backoff > retryBudgetSeconds { break }
                sleep(backoff)
            }
        }

        let at = clock()
        let lastError = lastFailure.error
        let explanation =
            lastFailure.explanation + (lastFailure.refreshToken != nil ? "; the new refresh token it carried was stored" : "")
        next.updatedAt = at
        next.lastError = "\(explanation) (\(Timestamp.iso8601(at)))"
        if let skew = lastFailure.clockSkew { next.clockSkew = skew }
        if lastError.refreshTokenIsDead {
            next.state = .invalid
            var reason = explanation
            // The failing answer's clock, not the last good one's: the skew may have come or gone since.
            if let skew = lastFailure.clockSkew, abs(skew) > 300 {
                reason +=
                    "; the local clock is \(abs(skew)) s \(skew > 0 ? "behind" : "ahead of") the provider's, which also makes it reject tokens: sync the clock (timedatectl set-ntp true), then log in again"
            }
            return (next, .failure(.refreshTokenDead(profile: profile.name, reason: reason)), [])
        }
        if lastError.isTransient {
            if let (_, outcome, warnings) = Self.stillValid(current, profile: profile, because: explanation, now: at) {
                return (next, .success(outcome), warnings)
            }
            next.state = .expired
            return (next, .failure(.providerUnavailable(profile: profile.name, reason: explanation, attempts: attempt)), [])
        }
        if let failure = Self.networkConfigurationFailure(lastError) {
            // Trust or a proxy's password: no retry helps, but an access token still inside
            // its lifetime is used meanwhile, as when the provider is down.
            if let (_, outcome, warnings) = Self.stillValid(current, profile: profile, because: explanation, now: at) {
                return (next, .success(outcome), warnings)
            }
            return (next, .failure(failure), [])
        }
        switch lastError {
        case .helperMissing(let path):
            return (current, .failure(.networkHelperMissing(path: path)), [])
        case .invalidClient(let description):
            return (next, .failure(.clientRejected(profile: profile.name, clientID: client.clientID, detail: description)), [])
        case .invalidScope:
            let scopes = profile.oauth.scopes.isEmpty ? "none (the provider's default)" : profile.oauth.scopes.joined(separator: " ")
            return (next, .failure(.refreshRefused(profile: profile.name, reason: "\(explanation); the scopes asked for: \(scopes)")), [])
        default:
            return (next, .failure(.refreshRefused(profile: profile.name, reason: explanation)), [])
        }
    }

    /// The error for a failure of this machine's network settings (a certificate not trusted,
    /// CAs that cannot be loaded, a proxy's 407), nil for any other.
    static func networkConfigurationFailure(_ error: TokenEndpointError) -> TokenrunError? {
        switch error {
        case .certificateRejected(let host, let problem, let trust): .certificateRejected(host: host, problem: problem, trust: trust)
        case .caFileUnusable(let trust, let why): .caFileUnusable(trust: trust, why: why)
        case .proxyAuthentication(let proxy, let why): .proxyAuthenticationFailed(proxy: proxy, why: why)
        default: nil
        }
    }

    /// Exponential backoff with jitter (0.5 s, 1 s, 2 s … ±25 %), or Retry-After when given (capped at 10 s).
    static func backoff(attempt: Int, retryAfter: Int?) -> Double {
        if let retryAfter { return Double(min(retryAfter, 10)) }
        let base = 0.5 * Double(1 << min(attempt - 1, 5))
        return base * Double.random(in: 0.75...1.25)
    }

    /// The client id and secret: secret from client_secret_env, the profile, or the vault, in that order.
    public static func clientCredentials(profile: Profile, credential: Credential, environment: [String: String]) throws
        -> ClientCredentials
    {
        guard let clientID = profile.oauth.clientID else {
            throw TokenrunError.profileIncomplete(profile: profile.name, missing: "oauth.client_id")
        }
        var secret: SecretString?
        if let variable = profile.oauth.clientSecretEnv {
            if let value = environment[variable], !value.isEmpty { secret = SecretString(value) }
        }
        secret = secret ?? profile.oauth.clientSecret ?? credential.clientSecret
        let method = profile.oauth.authMethod
        if method != nil && method != ClientAuthMethod.none && secret == nil {
            let from = profile.oauth.clientSecretEnv.map { "set \($0), " } ?? ""
            throw TokenrunError.profileIncomplete(
                profile: profile.name,
                missing:
                    "a client secret (\(from)add client_secret, or import it: tokenrun import -p \(profile.name) --refresh-token-stdin --client-secret-stdin)"
            )
        }
        return ClientCredentials(clientID: clientID, secret: secret, method: method)
    }

}

#if canImport(Glibc)
    import Glibc
#endif
