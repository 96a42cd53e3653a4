// Single-flight refresh (issue 3 §3, §4). The warm path reads the record under
// a shared lock and returns. Otherwise the refresh happens under the vault's
// exclusive lock, after re-reading the record: concurrent launches queue on the
// lock, and all but the first find a fresh token and make no request — so a
// rotated refresh token is never sent twice. The new tokens are written in the
// same locked step as the response is read: the rotated refresh token lives
// only in memory between the response and that write, so nothing else happens
// in between — the attempts are handed to the audit trail after the write.
//
// States: invalid_grant / expired_token / no refresh token → `invalid` (77,
// and later launches fail fast without a request); transient failures are
// retried with exponential backoff and jitter within a time budget, honouring
// Retry-After; then the still-valid token is used with a warning, or the
// record is marked `expired` (75).

/// Gets a usable access token for a profile, refreshing when needed.
public struct Refresher: Sendable {
    public let vault: UnlockedVault
    /// Made only when a refresh is needed, so the warm path builds no network client.
    public let transport: @Sendable () -> any HTTPTransport
    public var clock: @Sendable () -> Int64 = { ProcessEnvironment.now() }
    public var sleep: @Sendable (Double) -> Void = { seconds in Refresher.sleepSeconds(seconds) }
    public var monotonicMs: @Sendable () -> Int64 = { Refresher.monotonicMilliseconds() }
    /// At most this many requests per refresh.
    public var maxAttempts = 4
    /// Transient retries stop once this much time has gone.
    public var retryBudgetSeconds = 12.0
    public var environment: [String: String] = [:]
    /// Called for every refresh that reached the network (for the audit trail),
    /// once the vault holds its outcome.
    public var onAttempt: @Sendable (RefreshAttempt) -> Void = { _ in }
    /// Called once when a credential turns `invalid` (with the reason), after the vault is written.
    public var onInvalidated: @Sendable (Profile, String) -> Void = { _, _ in }

    public init(vault: UnlockedVault, transport: @escaping @Sendable () -> any HTTPTransport) {
        self.vault = vault
        self.transport = transport
    }

    /// A credential whose access token satisfies `policy`, and how it was obtained.
    public func usableCredential(for profile: Profile, policy: RefreshPolicy) throws -> (Credential, RefreshOutcome, warnings: [String]) {
        guard let stored = try vault.credentialAsUnlocked(for: profile.name) else { throw TokenrunError.notLoggedIn(profile: profile.name) }
        try Self.failFast(stored, profile: profile)
        if profile.kind == .apiKey {
            guard stored.accessToken != nil else { throw TokenrunError.notLoggedIn(profile: profile.name) }
            return (stored, .fresh, [])
        }
        if !policy.needsRefresh(stored, now: clock()) { return (stored, .fresh, []) }

        var warnings: [String] = []
        var failure: TokenrunError?
        var outcome = RefreshOutcome.fresh
        var invalidated: String?
        var attempts: [RefreshAttempt] = []
        // Audited after the vault write, even when it fails.
        defer { attempts.forEach(onAttempt) }
        let result: Credential? = try vault.updateCredential(for: profile.name) { current in
            guard let current else {
                failure = .notLoggedIn(profile: profile.name)
                return nil
            }
            if current.state == .invalid {
                failure = Self.reconsent(current, profile: profile)
                return nil
            }
            if !policy.needsRefresh(current, now: clock()) {
                outcome = current == stored ? .fresh : .refreshedElsewhere
                return current
            }
            let (updated, result, notes) = refreshLocked(current, profile: profile) { attempts.append($0) }
            warnings = notes
            switch result {
            case .success(let o): outcome = o
            case .failure(let error): failure = error
            }
            if updated.state == .invalid && current.state != .invalid {
                invalidated = updated.lastError ?? "the refresh token was rejected"
            }
            return updated
        }
        attempts.forEach(onAttempt)
        attempts = []
        if let invalidated { onInvalidated(profile, invalidated) }
        if let failure { throw failure }
        guard let credential = result else { throw TokenrunError.notLoggedIn(profile: profile.name) }
        return (credential, outcome, warnings)
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
        do {
            client = try Self.clientCredentials(profile: profile, credential: current, environment: environment)
            guard let url = profile.oauth.tokenEndpoint else {
                throw TokenrunError.profileIncomplete(profile: profile.name, missing: "oauth.token_endpoint")
            }
            var made = TokenEndpoint(url: url, transport: transport())
            made.clock = clock
            made.limits = TransportLimits(environment: environment)
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
                next.expiresAt = exchange.receivedAt + (grant.expiresIn ?? Self.assumedLifetime)
                let rotated = grant.refreshToken != nil && grant.refreshToken != refreshToken
                if let newRefresh = grant.refreshToken { next.refreshToken = newRefresh }
                if let scope = grant.scope { next.scopes = scope.split(separator: " ").map(String.init) }
                if let idToken = grant.idToken { next.idToken = idToken }
                next.state = .connected
                next.lastError = nil
                next.clockSkew = exchange.clockSkew
                next.updatedAt = exchange.receivedAt
                next.refreshedAt = exchange.receivedAt
                var notes: [String] = []
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
            if let expiresAt = current.expiresAt, current.accessToken != nil, expiresAt > at {
                let warning =
                    "could not refresh \(profile.name): \(explanation); using the current access token, valid for \(DurationParser.format(expiresAt - at)) more"
                return (next, .success(.staleButValid(reason: explanation)), [warning])
            }
            next.state = .expired
            return (next, .failure(.providerUnavailable(profile: profile.name, reason: explanation, attempts: attempt)), [])
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

    /// Lifetime assumed when the provider gives no expires_in.
    public static let assumedLifetime: Int64 = 3600

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

    static func sleepSeconds(_ seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    public static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
    import Glibc
#endif
