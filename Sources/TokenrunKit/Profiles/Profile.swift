// A profile after `extends` has been resolved: what to refresh and how to hand
// the token to the child. Holds the client secret only as a SecretString, so
// printing a profile never shows it.

/// How the client authenticates at the token endpoint.
public enum ClientAuthMethod: String, Sendable, CaseIterable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case none
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
    public var scopes: [String]
    public var authMethod: ClientAuthMethod?
    public var authorizationParams: [String: String]

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
    public var oauth: OAuthSettings
    public var refreshWindow: Int64
    public var env: [EnvBinding]
    public var files: [FileBinding]
}
