// A stored credential. Tokens and client secrets are kept as `SecretString`,
// whose description is a fingerprint, so printing or logging a credential by
// mistake never shows a token.
import TokenrunProfiles
import TokenrunSupport
import FoundationEssentials

/// The state of a stored credential, as `tokenrun status` shows it.
public enum CredentialState: String, Sendable, Codable, CaseIterable {
    /// Usable and refreshable.
    case connected
    /// The access token is dead and the last refresh failed transiently: recoverable.
    case expired
    /// The refresh token was rejected: a new login is needed.
    case invalid
}

/// Everything the vault keeps for one profile, sealed as one record.
public struct Credential: Sendable, Equatable, Codable {
    /// The profile this record belongs to; checked when the record is opened.
    public var profile: String
    public var refreshToken: SecretString?
    public var accessToken: SecretString?
    public var idToken: SecretString?
    public var clientSecret: SecretString?
    public var tokenType: String?
    public var scopes: [String]
    /// When the access token expires, in seconds since 1970.
    public var expiresAt: Int64?
    /// When the access token was issued, in seconds since 1970.
    public var issuedAt: Int64?
    public var state: CredentialState
    /// The last error seen for this credential, for `status` (never a secret).
    public var lastError: String?
    /// When this record was last written, in seconds since 1970.
    public var updatedAt: Int64
    /// The token endpoint's clock minus ours at the last refresh, in seconds.
    public var clockSkew: Int64?
    /// How the grant was obtained: a `GrantType` raw value, "api_key" or "import".
    public var obtainedBy: String?
    /// The scopes the login asked for (providers may answer with other spellings).
    public var requestedScopes: [String]?
    /// When the grant was obtained (login or import), in seconds since 1970.
    public var grantedAt: Int64?
    /// When the token endpoint last answered a refresh successfully, in seconds since 1970.
    public var refreshedAt: Int64?
    /// The token endpoint this grant was issued by: its refresh token is sent nowhere else.
    /// Nil in records written before credentials were bound; set at their next refresh.
    public var tokenEndpoint: String?
    /// The client id the grant was issued to, bound like `tokenEndpoint`.
    public var clientID: String?

    public init(
        profile: String, refreshToken: SecretString? = nil, accessToken: SecretString? = nil,
        idToken: SecretString? = nil, clientSecret: SecretString? = nil, tokenType: String? = nil,
        scopes: [String] = [], expiresAt: Int64? = nil, issuedAt: Int64? = nil,
        state: CredentialState = .connected, lastError: String? = nil, updatedAt: Int64
    ) {
        self.profile = profile
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.idToken = idToken
        self.clientSecret = clientSecret
        self.tokenType = tokenType
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.state = state
        self.lastError = lastError
        self.updatedAt = updatedAt
    }

    /// The record's JSON keys, for the Codable writer and the fast reader (`init(json:)`) alike.
    enum CodingKeys: String, CodingKey {
        case profile
        case refreshToken = "refresh_token"
        case accessToken = "access_token"
        case idToken = "id_token"
        case clientSecret = "client_secret"
        case tokenType = "token_type"
        case scopes
        case expiresAt = "expires_at"
        case issuedAt = "issued_at"
        case state
        case lastError = "last_error"
        case updatedAt = "updated_at"
        case clockSkew = "clock_skew"
        case obtainedBy = "obtained_by"
        case requestedScopes = "requested_scopes"
        case grantedAt = "granted_at"
        case refreshedAt = "refreshed_at"
        case tokenEndpoint = "token_endpoint"
        case clientID = "client_id"
    }
}

extension Credential {
    /// The issuer this credential is bound to, when it is bound.
    public var issuer: CredentialIssuer? {
        tokenEndpoint.map { CredentialIssuer(tokenEndpoint: $0, clientID: clientID) }
    }

    /// Binds the credential to `issuer`: its refresh token will go only there.
    public mutating func bind(to issuer: CredentialIssuer) {
        tokenEndpoint = issuer.tokenEndpoint
        clientID = issuer.clientID
    }

    /// Reads a credential as `UnlockedVault.encode` writes it, without JSONDecoder: this
    /// runs on every warm launch. Its keys come from `CodingKeys`, the one table the
    /// writer uses too, so the two cannot drift apart.
    init(json value: JSONValue) throws(JSONReadError) {
        typealias Key = CodingKeys
        let object = try JSONObjectReader(value)
        func secret(_ key: Key) throws(JSONReadError) -> SecretString? {
            try object.optionalString(key.stringValue).map(SecretString.init)
        }
        func string(_ key: Key) throws(JSONReadError) -> String? { try object.optionalString(key.stringValue) }
        func int64(_ key: Key) throws(JSONReadError) -> Int64? { try object.optionalInt64(key.stringValue) }
        guard let scopes = try object.optionalStrings(Key.scopes.stringValue) else {
            throw JSONReadError(offset: 0, reason: "missing \"\(Key.scopes.stringValue)\"")
        }
        guard let state = CredentialState(rawValue: try object.string(Key.state.stringValue)) else {
            throw JSONReadError(offset: 0, reason: "bad value at \(Key.state.stringValue)")
        }
        self.init(
            profile: try object.string(Key.profile.stringValue), refreshToken: try secret(.refreshToken),
            accessToken: try secret(.accessToken), idToken: try secret(.idToken), clientSecret: try secret(.clientSecret),
            tokenType: try string(.tokenType), scopes: scopes, expiresAt: try int64(.expiresAt), issuedAt: try int64(.issuedAt),
            state: state, lastError: try string(.lastError), updatedAt: try object.int64(Key.updatedAt.stringValue))
        clockSkew = try int64(.clockSkew)
        obtainedBy = try string(.obtainedBy)
        requestedScopes = try object.optionalStrings(Key.requestedScopes.stringValue)
        grantedAt = try int64(.grantedAt)
        refreshedAt = try int64(.refreshedAt)
        tokenEndpoint = try string(.tokenEndpoint)
        clientID = try string(.clientID)
    }
}

/// The token endpoint and client id a grant was issued for.
public struct CredentialIssuer: Sendable, Equatable {
    public var tokenEndpoint: String
    public var clientID: String?

    public init(tokenEndpoint: String, clientID: String?) {
        self.tokenEndpoint = tokenEndpoint
        self.clientID = clientID
    }

    /// The issuer `profile` names; nil for a profile without a token endpoint.
    public init?(of profile: Profile) {
        guard let endpoint = profile.oauth.tokenEndpoint else { return nil }
        self.init(tokenEndpoint: endpoint, clientID: profile.oauth.clientID)
    }
}

extension Profile {
    /// The profile's scopes that the stored grant does not cover (scopes added after the login).
    public func scopesMissing(from credential: Credential) -> [String] {
        guard kind == .oauth else { return [] }
        let covered = Set(credential.scopes + (credential.requestedScopes ?? []))
        if covered.isEmpty { return [] }  // an imported token: its scopes are unknown
        return oauth.scopes.filter { !covered.contains($0) }
    }
}
