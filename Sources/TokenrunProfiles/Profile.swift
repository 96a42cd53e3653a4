// A profile after `extends` has been resolved: what to refresh and how to hand
// the token to the child. Holds the client secret only as a SecretString, so
// printing a profile never shows it.
import TokenrunSupport

/// How the client authenticates at the token endpoint.
public enum ClientAuthMethod: String, Sendable, CaseIterable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case none
}

/// How a credential is obtained (`[oauth] grant_type`).
public enum GrantType: String, Sendable, CaseIterable {
    /// A person consents in a browser; tokenrun gets the code on a loopback redirect (PKCE).
    case authorizationCode = "authorization_code"
    /// A person consents on another device with a user code (RFC 8628).
    case deviceCode = "device_code"
    /// Machine to machine: the client's own credentials, no person, no refresh token.
    case clientCredentials = "client_credentials"
}

/// What a profile holds (`kind`).
public enum ProfileKind: String, Sendable, CaseIterable {
    /// OAuth 2.0 tokens, refreshed as they expire.
    case oauth
    /// A static API key, typed in once; nothing to refresh.
    case apiKey = "api_key"
}

/// The `[oauth]` table.
public struct OAuthSettings: Sendable, Equatable {
    public var tokenEndpoint: String?
    public var authorizationEndpoint: String?
    public var deviceAuthorizationEndpoint: String?
    public var revocationEndpoint: String?
    public var clientID: String?
    public var clientSecret: SecretString?
    public var clientSecretEnv: String?
    /// A PEM file of CA certificates to trust for this profile's endpoints, instead of
    /// the system's (`~/` is the home directory).
    public var caFile: String?
    public var scopes: [String]
    public var authMethod: ClientAuthMethod?
    public var authorizationParams: [String: String]
    /// Set explicitly by the profile; see `Profile.grantType` for the effective one.
    public var grantType: GrantType?
    /// A fixed port for the loopback redirect, for providers that need a registered one.
    public var redirectPort: Int?
    /// "127.0.0.1" (RFC 8252 §7.3, the default) or "localhost".
    public var redirectHost: String?

    public init() {
        scopes = []
        authorizationParams = [:]
    }
}

/// One `[env]` entry: a variable of the child's and its template.
public struct EnvBinding: Sendable, Equatable {
    public let name: String
    public let template: Template
}

/// One `[[file]]` entry: a private file whose path the child finds in `pathEnv`.
public struct FileBinding: Sendable, Equatable {
    public let pathEnv: String
    public let template: Template
    /// The file's name inside its private directory (default: the profile name).
    public let name: String?
}

/// A resolved profile.
public struct Profile: Sendable, Equatable {
    public static let defaultRefreshWindow: Int64 = 300

    public let name: String
    /// Where it was defined: a file path, or "built-in".
    public let source: String
    /// Every file in its `extends` chain, this one first.
    public let chain: [String]
    public var description: String?
    public var username: String?
    public var exposeRefreshToken: Bool
    public var kind: ProfileKind = .oauth
    /// A shell command run once when the credential becomes invalid.
    public var onReauthRequired: String?
    public var oauth: OAuthSettings
    public var refreshWindow: Int64
    /// A signal (by name: "HUP", "USR1", …) sent to the child after its files are rewritten with a new token.
    public var onRefreshSignal: String?
    /// Run a token server for the child (as `run --serve`).
    public var serveTokens = false
    /// `exec = false`: a launch waits for the command and records its exit (as `run --no-exec`)
    /// instead of replacing itself with it when nothing else needs tokenrun after the start.
    public var execInPlace = true
    public var env: [EnvBinding]
    public var files: [FileBinding]
}

extension Profile {
    /// The name each [[file]] gets in the launch's private directory, in order.
    public var fileNames: [String] {
        files.enumerated().map { index, file in
            file.name ?? (files.count == 1 ? "\(name).token" : "\(name)-\(index + 1).token")
        }
    }

    /// The grant a login uses: the profile's choice, else what its endpoints allow.
    public var grantType: GrantType {
        if let chosen = oauth.grantType { return chosen }
        if oauth.authorizationEndpoint == nil && oauth.deviceAuthorizationEndpoint != nil { return .deviceCode }
        return .authorizationCode
    }

    /// Whether a login must produce a refresh token for the credential to stay usable.
    public var needsRefreshToken: Bool { kind == .oauth && grantType != .clientCredentials }
}
