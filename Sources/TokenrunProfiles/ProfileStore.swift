// Finding and resolving profiles. Lookup order (docs/vault.md, "Where files live"): each directory
// of TOKENRUN_PROFILE_PATH, then $XDG_CONFIG_HOME/tokenrun/profiles/, then the
// built-ins compiled into the binary. `extends = "NAME"` resolves with the
// same order, except that a profile extending its own name continues the
// search below itself — so a user's gmail.toml can say `extends = "gmail"` to
// add a client id to the built-in. Cycles are errors.
//
// Trust (as ssh trusts its config): a relative TOKENRUN_PROFILE_PATH entry is
// never searched — it would make the current directory, say a cloned
// repository, choose where a refresh token is sent — and is reported in
// `warnings` for the executable to print. A profile file, or its directory,
// that another user could write is refused (TrustedFile), along the whole
// `extends` chain. Built-ins are part of the binary and need no check.
import TokenrunSupport

/// One place a profile of a given name was found.
public struct ProfileCandidate: Sendable, Equatable {
    public let name: String
    /// A file path, or "built-in:NAME".
    public let file: String
    /// Position in the lookup order (lower wins).
    public let rank: Int
    public var isBuiltin: Bool { file.hasPrefix("built-in:") }
    /// "built-in" or the path, for listings.
    public var sourceLabel: String { isBuiltin ? "built-in" : file }
}

/// The profiles visible to one environment.
public struct ProfileStore: Sendable {
    public let searchDirectories: [String]
    public let builtins: [String: String]
    /// What the executable should print as warnings: the TOKENRUN_PROFILE_PATH entries skipped.
    public let warnings: [String]
    /// The relative TOKENRUN_PROFILE_PATH entries, which are not searched.
    public let skippedEntries: [String]

    public init(environment: [String: String], builtins: [String: String] = BuiltinProfiles.all) {
        let entries = (environment["TOKENRUN_PROFILE_PATH"] ?? "").split(separator: ":").map(String.init)
        var directories = entries.filter { $0.hasPrefix("/") }
        skippedEntries = entries.filter { !$0.hasPrefix("/") }
        warnings = skippedEntries.map(Self.skippedWarning)
        directories.append(Paths(environment: environment).userProfiles)
        searchDirectories = directories
        self.builtins = builtins
    }

    /// The warning for a relative TOKENRUN_PROFILE_PATH entry.
    public static func skippedWarning(_ entry: String) -> String {
        "TOKENRUN_PROFILE_PATH entry \(Quoting.message(entry)) is relative, so it is not searched (a relative entry would let the current directory choose a profile); give its absolute path"
    }

    /// Where to look, for messages.
    public var searchedLocations: [String] { searchDirectories + ["the built-in profiles"] }

    /// Every place a profile called `name` exists, best first.
    public func candidates(named name: String) -> [ProfileCandidate] {
        guard ProfileParser.isValidName(name) else { return [] }
        var found: [ProfileCandidate] = []
        for (rank, directory) in searchDirectories.enumerated() {
            let path = Paths.join(directory, name + ".toml")
            if FileSystem.exists(path) { found.append(ProfileCandidate(name: name, file: path, rank: rank)) }
        }
        if builtins[name] != nil {
            found.append(ProfileCandidate(name: name, file: "built-in:\(name)", rank: searchDirectories.count))
        }
        return found
    }

    /// Every profile file in every search location and every built-in, in lookup order.
    public func allCandidates() -> [ProfileCandidate] {
        var all: [ProfileCandidate] = []
        for (rank, directory) in searchDirectories.enumerated() {
            for entry in FileSystem.listDirectory(directory) where entry.hasSuffix(".toml") {
                let name = String(entry.dropLast(5))
                all.append(ProfileCandidate(name: name, file: Paths.join(directory, entry), rank: rank))
            }
        }
        for name in builtins.keys.sorted() {
            all.append(ProfileCandidate(name: name, file: "built-in:\(name)", rank: searchDirectories.count))
        }
        return all
    }

    /// The profile each name resolves to (the first candidate of each name), sorted by name.
    public func effectiveCandidates() -> [ProfileCandidate] {
        var seen = Set<String>()
        return allCandidates().filter { seen.insert($0.name).inserted }.sorted { $0.name < $1.name }
    }

    /// Loads and resolves the profile `name`.
    public func load(_ name: String) throws -> Profile {
        guard ProfileParser.isValidName(name) else {
            throw TokenrunError.usage("\"\(name)\" is not a valid profile name (letters, digits, . _ -; at most 64)")
        }
        guard let candidate = candidates(named: name).first else {
            throw TokenrunError.profileNotFound(name: name, searched: searchedLocations)
        }
        return try resolve(candidate)
    }

    /// Loads a profile from an explicit file (for `profiles validate FILE`); its name is the file name.
    public func load(file path: String) throws -> Profile {
        var name = path.baseName
        if name.hasSuffix(".toml") { name.removeLast(5) }
        guard ProfileParser.isValidName(name) else {
            throw TokenrunError.profileInvalid(
                ProfileDiagnostic(
                    file: path, line: nil, message: "\"\(name)\" is not a valid profile name",
                    hint: "name the file with letters, digits, . _ - and .toml, e.g. acme.toml"))
        }
        return try resolve(ProfileCandidate(name: name, file: path, rank: -1))
    }

    /// Parses `candidate` and everything it extends, then merges and checks the result.
    public func resolve(_ candidate: ProfileCandidate) throws -> Profile {
        var chain: [ProfileLayer] = []
        var visited: [String] = []
        var current = candidate
        while true {
            let key = "\(current.name)@\(current.file)"
            if visited.contains(key) {
                throw TokenrunError.profileCycle(chain.map(\.name) + [current.name])
            }
            visited.append(key)
            let layer = try read(current)
            chain.append(layer)
            guard let parent = layer.extends else { break }
            let options = candidates(named: parent.value).filter {
                parent.value != current.name || $0.rank > current.rank
            }
            guard let next = options.first else {
                if chain.contains(where: { $0.name == parent.value }) {
                    throw TokenrunError.profileCycle(chain.map(\.name) + [parent.value])
                }
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(
                        file: layer.file, line: parent.line, message: "extends \"\(parent.value)\", but no such profile exists",
                        hint: "tokenrun profiles list"))
            }
            if chain.count > 32 { throw TokenrunError.profileCycle(chain.map(\.name)) }
            current = next
        }
        return try ProfileMerger.merge(chain, name: candidate.name, source: candidate.sourceLabel)
    }

    /// Reads and schema-checks one candidate.
    public func read(_ candidate: ProfileCandidate) throws -> ProfileLayer {
        let bytes: [UInt8]
        if candidate.isBuiltin {
            bytes = Array((builtins[candidate.name] ?? "").utf8)
        } else {
            do {
                guard let read = try TrustedFile.read(candidate.file, limit: ProfileParser.sizeLimit, what: "the profile") else {
                    throw TokenrunError.profileNotFound(name: candidate.name, searched: [candidate.file])
                }
                bytes = read
            } catch let error as SystemCallError {
                if error.errno == 27 {
                    throw TokenrunError.profileInvalid(
                        ProfileDiagnostic(
                            file: candidate.file, line: nil, message: "the file is over the 1 MiB limit for a profile",
                            hint: "a profile is a short TOML file; check that \(candidate.file) is the file you meant"))
                }
                throw TokenrunError.fileSystem(error, what: "the profile")
            }
        }
        do {
            return try ProfileParser.parse(bytes: bytes, name: candidate.name, file: candidate.file)
        } catch {
            throw TokenrunError.profileInvalid(error)
        }
    }
}

/// Merges a chain of layers (child first) into a profile and runs the checks
/// that need the whole picture.
enum ProfileMerger {
    static func merge(_ chain: [ProfileLayer], name: String, source: String) throws -> Profile {
        var profile = Profile(
            name: name, source: source, chain: chain.map(\.file), description: nil, username: nil,
            exposeRefreshToken: false, oauth: OAuthSettings(), refreshWindow: Profile.defaultRefreshWindow, env: [],
            files: [])
        var envOrigins: [String: (file: String, line: Int)] = [:]
        var fileOrigins: [(file: String, line: Int)] = []
        // Apply ancestors first so that each child overrides what it extends.
        for layer in chain.reversed() {
            if let v = layer.description { profile.description = v.value }
            if let v = layer.username { profile.username = v.value }
            if let v = layer.exposeRefreshToken { profile.exposeRefreshToken = v.value }
            if let v = layer.execInPlace { profile.execInPlace = v.value }
            if let v = layer.kind { profile.kind = ProfileKind(rawValue: v.value) ?? .oauth }
            if let v = layer.onReauthRequired { profile.onReauthRequired = v.value }
            if let v = layer.grantType { profile.oauth.grantType = GrantType(rawValue: v.value) }
            if let v = layer.redirectPort { profile.oauth.redirectPort = v.value }
            if let v = layer.redirectHost { profile.oauth.redirectHost = v.value }
            if let v = layer.tokenEndpoint { profile.oauth.tokenEndpoint = v.value }
            if let v = layer.authorizationEndpoint { profile.oauth.authorizationEndpoint = v.value }
            if let v = layer.deviceAuthorizationEndpoint { profile.oauth.deviceAuthorizationEndpoint = v.value }
            if let v = layer.revocationEndpoint { profile.oauth.revocationEndpoint = v.value }
            if let v = layer.clientID { profile.oauth.clientID = v.value }
            if let v = layer.clientSecret { profile.oauth.clientSecret = SecretString(v.value) }
            if let v = layer.clientSecretEnv { profile.oauth.clientSecretEnv = v.value }
            if let v = layer.caFile { profile.oauth.caFile = v.value }
            if let v = layer.scopes { profile.oauth.scopes = v.value }
            if let v = layer.authMethod { profile.oauth.authMethod = ClientAuthMethod(rawValue: v.value) }
            for (key, value) in layer.authorizationParams { profile.oauth.authorizationParams[key] = value.value }
            if let v = layer.window { profile.refreshWindow = v.value }
            if let v = layer.onRefreshSignal { profile.onRefreshSignal = v.value }
            if let v = layer.serveTokens { profile.serveTokens = v.value }
            for binding in layer.env {
                profile.env.removeAll { $0.name == binding.name }
                profile.env.append(EnvBinding(name: binding.name, template: binding.template))
                envOrigins[binding.name] = (layer.file, binding.line)
            }
            if let files = layer.files {
                profile.files = files.value.map { FileBinding(pathEnv: $0.pathEnv, template: $0.template, name: $0.name) }
                fileOrigins = files.value.map { (layer.file, $0.line) }
            }
        }

        if !profile.exposeRefreshToken {
            let hint = "set expose_refresh_token = true in the profile if the child really needs the refresh token"
            for binding in profile.env where binding.template.variableNames.contains(Template.refreshTokenVariable) {
                let origin = envOrigins[binding.name]!
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(
                        file: origin.file, line: origin.line,
                        message: "env.\(binding.name) uses {{refresh_token}}, which this profile does not expose", hint: hint))
            }
            for (index, file) in profile.files.enumerated()
            where file.template.variableNames.contains(Template.refreshTokenVariable) {
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(
                        file: fileOrigins[index].file, line: fileOrigins[index].line,
                        message: "[[file]] \(file.pathEnv) uses {{refresh_token}}, which this profile does not expose", hint: hint))
            }
        }
        // Two files of one name would collide in the launch's private directory ("File exists").
        var fileNamed: [String: Int] = [:]
        for (index, fileName) in profile.fileNames.enumerated() {
            if let first = fileNamed[fileName] {
                let named = profile.files[index].name != nil ? "file.name" : "the default name"
                throw TokenrunError.profileInvalid(
                    ProfileDiagnostic(
                        file: fileOrigins[index].file, line: fileOrigins[index].line,
                        message:
                            "[[file]] \(profile.files[index].pathEnv) would be written as \(Quoting.message(fileName)) (\(named)), the name of the [[file]] on line \(fileOrigins[first].line); give each its own file.name"
                    ))
            }
            fileNamed[fileName] = index
        }
        for (index, file) in profile.files.enumerated() where profile.env.contains(where: { $0.name == file.pathEnv }) {
            throw TokenrunError.profileInvalid(
                ProfileDiagnostic(
                    file: fileOrigins[index].file, line: fileOrigins[index].line,
                    message: "file.path_env \(file.pathEnv) is also set in [env]; the child can only get one of them"))
        }
        return profile
    }
}
