// Where tokenrun keeps things, per the XDG base directory specification.
// Relative XDG_* values are ignored, as the specification requires.

/// Resolved locations of tokenrun's files for one environment.
public struct Paths: Sendable, Equatable {
    public let configHome: String
    public let dataHome: String
    public let stateHome: String
    public let runtimeDir: String?
    public let tmpDir: String

    public init(environment: [String: String]) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        func xdg(_ name: String, _ fallback: String) -> String {
            if let value = environment[name], value.hasPrefix("/") { return value }
            return Self.join(home, fallback)
        }
        configHome = xdg("XDG_CONFIG_HOME", ".config")
        dataHome = xdg("XDG_DATA_HOME", ".local/share")
        stateHome = xdg("XDG_STATE_HOME", ".local/state")
        runtimeDir = environment["XDG_RUNTIME_DIR"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        tmpDir = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
    }

    /// `$XDG_DATA_HOME/tokenrun/vault`
    public var vault: String { Self.join(dataHome, "tokenrun/vault") }
    /// `$XDG_CONFIG_HOME/tokenrun/vault.key`
    public var defaultKeyFile: String { Self.join(configHome, "tokenrun/vault.key") }
    /// `$XDG_CONFIG_HOME/tokenrun/profiles`
    public var userProfiles: String { Self.join(configHome, "tokenrun/profiles") }
    /// `$XDG_CONFIG_HOME/tokenrun/config.toml`: settings for every profile.
    public var globalConfig: String { Self.join(configHome, "tokenrun/config.toml") }
    /// `$XDG_STATE_HOME/tokenrun/audit.jsonl`
    public var auditTrail: String { Self.join(stateHome, "tokenrun/audit.jsonl") }

    package static func join(_ base: String, _ rest: String) -> String {
        base.hasSuffix("/") ? base + rest : base + "/" + rest
    }
}

extension String {
    /// The directory part of a path ("." when there is none).
    package var directoryName: String {
        guard let slash = lastIndex(of: "/") else { return "." }
        if slash == startIndex { return "/" }
        return String(self[..<slash])
    }

    /// The last path component.
    package var baseName: String {
        guard let slash = lastIndex(of: "/") else { return self }
        return String(self[index(after: slash)...])
    }
}
