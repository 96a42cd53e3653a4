// One profile file as written, checked against the schema but not yet merged
// with what it extends. Every value keeps its line so that errors found later
// (after merging) still point at the line that caused them.

/// A value and the line it came from.
public struct Located<Value: Sendable & Equatable>: Sendable, Equatable {
    public let value: Value
    public let line: Int
}

/// One profile file, schema-checked.
public struct ProfileLayer: Sendable, Equatable {
    public let name: String
    /// A path, or "built-in:NAME".
    public let file: String
    public var description: Located<String>?
    public var username: Located<String>?
    public var extends: Located<String>?
    public var exposeRefreshToken: Located<Bool>?
    public var execInPlace: Located<Bool>?
    public var kind: Located<String>?
    public var onReauthRequired: Located<String>?
    public var grantType: Located<String>?
    public var redirectPort: Located<Int>?
    public var redirectHost: Located<String>?
    public var tokenEndpoint: Located<String>?
    public var authorizationEndpoint: Located<String>?
    public var deviceAuthorizationEndpoint: Located<String>?
    public var revocationEndpoint: Located<String>?
    public var clientID: Located<String>?
    public var clientSecret: Located<String>?
    public var clientSecretEnv: Located<String>?
    public var caFile: Located<String>?
    public var scopes: Located<[String]>?
    public var authMethod: Located<String>?
    public var authorizationParams: [String: Located<String>] = [:]
    public var window: Located<Int64>?
    public var onRefreshSignal: Located<String>?
    public var serveTokens: Located<Bool>?
    public var env: [LocatedEnv] = []
    public var files: Located<[LocatedFile]>?

    public struct LocatedEnv: Sendable, Equatable {
        public let name: String
        public let template: Template
        public let line: Int
    }

    public struct LocatedFile: Sendable, Equatable {
        public let pathEnv: String
        public let template: Template
        public let name: String?
        public let line: Int
    }

    public init(name: String, file: String) {
        self.name = name
        self.file = file
    }
}
