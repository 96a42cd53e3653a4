// Checks one profile file against the profile schema (docs/profiles.md). Every error
// names the file and line; an unknown key also names the nearest valid key.
// Templates are parsed here (syntax, known variables); whether the refresh
// token may be used is decided after merging, in `ProfileStore.merge`.
import TokenrunSupport

/// Reads one profile file into a `ProfileLayer`.
public enum ProfileParser {
    /// Profile files above this size are refused unread.
    public static let sizeLimit = 1 << 20

    static let topKeys = [
        "description", "username", "extends", "kind", "expose_refresh_token", "exec", "on_reauth_required", "oauth", "refresh", "env",
        "file",
    ]
    static let oauthKeys = [
        "token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "revocation_endpoint",
        "client_id", "client_secret", "client_secret_env", "scopes", "auth_method", "authorization_params", "grant_type",
        "redirect_port", "redirect_host", "ca_file",
    ]
    static let refreshKeys = ["window", "on_refresh_signal", "serve"]
    static let fileKeys = ["path_env", "template", "name"]

    /// Parses `bytes` as the profile `name` read from `file`.
    public static func parse(bytes: [UInt8], name: String, file: String) throws(ProfileDiagnostic) -> ProfileLayer {
        guard bytes.count <= sizeLimit else {
            throw ProfileDiagnostic(
                file: file, line: nil, message: "the file is \(bytes.count) bytes, over the 1 MiB limit for a profile",
                hint: "a profile is a short TOML file; check that \(file) is the file you meant")
        }
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(bytes: bytes)
        } catch {
            throw ProfileDiagnostic(file: file, line: error.line, message: error.diagnosticMessage)
        }
        return try Reader(file: file).layer(from: table, name: name)
    }

    /// Parses a profile given as text.
    public static func parse(text: String, name: String, file: String) throws(ProfileDiagnostic) -> ProfileLayer {
        try parse(bytes: Array(text.utf8), name: name, file: file)
    }

    /// Whether `name` can be a profile name (it becomes a file name and a vault key).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 64 else { return false }
        func allowed(_ s: Unicode.Scalar) -> Bool {
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "_" || s == "-" || s == ".")
        }
        return first != "." && first != "-" && name.unicodeScalars.allSatisfy(allowed)
    }

    /// Whether `name` can be an environment variable name.
    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    private struct Reader {
        let file: String

        func fail(_ line: Int?, _ message: String, hint: String? = nil) -> ProfileDiagnostic {
            ProfileDiagnostic(file: file, line: line, message: message, hint: hint)
        }

        func checkKeys(_ table: TOMLTable, allowed: [String], prefix: String) throws(ProfileDiagnostic) {
            for entry in table.entries where !allowed.contains(entry.key) {
                throw fail(
                    entry.line, "unknown key \(Quoting.message(prefix + entry.key))", hint: hint(for: entry.key, allowed: allowed))
            }
        }

        /// The nearest key here; else the nearest key of another table, with where it belongs.
        func hint(for key: String, allowed: [String]) -> String {
            if let near = Suggestion.nearest(to: key, in: allowed) { return "did you mean \"\(near)\"?" }
            let elsewhere: [(table: String, keys: [String])] = [
                ("top level, before any [table]", ProfileParser.topKeys), ("[oauth]", ProfileParser.oauthKeys),
                ("[refresh]", ProfileParser.refreshKeys), ("[[file]]", ProfileParser.fileKeys),
            ]
            for (table, keys) in elsewhere where keys != allowed {
                if let near = Suggestion.nearest(to: key, in: keys) {
                    return "did you mean \"\(near)\"? It belongs \(table.hasPrefix("top") ? "at the " : "under ")\(table)"
                }
            }
            return "valid keys here: \(allowed.joined(separator: ", "))"
        }

        func string(_ entry: TOMLTable.Entry, _ path: String) throws(ProfileDiagnostic) -> Located<String> {
            guard case .string(let value) = entry.value else {
                throw fail(entry.line, "\(path) must be a string, found \(entry.value.typeName)")
            }
            return Located(value: value, line: entry.line)
        }

        /// A string that must be one of `choices`; a near miss gets a suggestion.
        func choice(_ entry: TOMLTable.Entry, _ path: String, _ choices: [String], noun: String) throws(ProfileDiagnostic)
            -> Located<String>
        {
            let value = try string(entry, path)
            guard choices.contains(value.value) else {
                throw fail(
                    entry.line, "\(path): \(Quoting.message(value.value)) is not one of \(choices.joined(separator: ", "))",
                    hint: Suggestion.hint(for: value.value, in: choices, noun: noun))
            }
            return value
        }

        func table(_ entry: TOMLTable.Entry, _ path: String) throws(ProfileDiagnostic) -> TOMLTable {
            guard case .table(let table) = entry.value else {
                throw fail(entry.line, "\(path) must be a table ([\(path)]), found \(entry.value.typeName)")
            }
            return table
        }

        func template(_ text: String, line: Int, _ path: String) throws(ProfileDiagnostic) -> Template {
            let template: Template
            do {
                template = try Template(parsing: text)
            } catch {
                switch error {
                case .unclosed: throw fail(line, "\(path): \"{{\" is never closed with \"}}\"")
                case .empty: throw fail(line, "\(path): empty \"{{}}\"; name a variable")
                case .badName(let name):
                    throw fail(
                        line, "\(path): \(Quoting.message("{{\(name)}}")) is not a variable name",
                        hint: "variables: \(Template.variables.joined(separator: ", "))")
                }
            }
            let known = Template.variables + [Template.refreshTokenVariable]
            for name in template.variableNames where !known.contains(name) {
                throw fail(
                    line, "\(path): unknown template variable \(Quoting.message("{{\(name)}}"))",
                    hint: Suggestion.hint(for: name, in: Template.variables, noun: "variable"))
            }
            return template
        }

        func layer(from root: TOMLTable, name: String) throws(ProfileDiagnostic) -> ProfileLayer {
            try checkKeys(root, allowed: ProfileParser.topKeys, prefix: "")
            var layer = ProfileLayer(name: name, file: file)
            for entry in root.entries {
                switch entry.key {
                case "description": layer.description = try string(entry, "description")
                case "username": layer.username = try string(entry, "username")
                case "extends":
                    let parent = try string(entry, "extends")
                    guard ProfileParser.isValidName(parent.value) else {
                        throw fail(entry.line, "extends: \(Quoting.message(parent.value)) is not a profile name")
                    }
                    layer.extends = parent
                case "expose_refresh_token":
                    guard case .boolean(let value) = entry.value else {
                        throw fail(entry.line, "expose_refresh_token must be true or false, found \(entry.value.typeName)")
                    }
                    layer.exposeRefreshToken = Located(value: value, line: entry.line)
                case "exec":
                    guard case .boolean(let value) = entry.value else {
                        throw fail(entry.line, "exec must be true or false, found \(entry.value.typeName)")
                    }
                    layer.execInPlace = Located(value: value, line: entry.line)
                case "kind":
                    layer.kind = try choice(entry, "kind", ProfileKind.allCases.map(\.rawValue), noun: "kind")
                case "on_reauth_required":
                    let command = try string(entry, "on_reauth_required")
                    guard !command.value.allSatisfy(\.isWhitespace) else {
                        throw fail(entry.line, "on_reauth_required is empty; give a shell command, or remove the key")
                    }
                    layer.onReauthRequired = command
                case "oauth": try readOAuth(try table(entry, "oauth"), into: &layer)
                case "refresh": try readRefresh(try table(entry, "refresh"), into: &layer)
                case "env": try readEnv(try table(entry, "env"), into: &layer)
                case "file": try readFiles(entry, into: &layer)
                default: break
                }
            }
            return layer
        }

        func readOAuth(_ oauth: TOMLTable, into layer: inout ProfileLayer) throws(ProfileDiagnostic) {
            try checkKeys(oauth, allowed: ProfileParser.oauthKeys, prefix: "oauth.")
            for entry in oauth.entries {
                let path = "oauth.\(entry.key)"
                switch entry.key {
                case "token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "revocation_endpoint":
                    let url = try string(entry, path)
                    if let problem = Endpoint.problem(with: url.value) { throw fail(entry.line, "\(path): \(problem)") }
                    switch entry.key {
                    case "token_endpoint": layer.tokenEndpoint = url
                    case "authorization_endpoint": layer.authorizationEndpoint = url
                    case "device_authorization_endpoint": layer.deviceAuthorizationEndpoint = url
                    default: layer.revocationEndpoint = url
                    }
                case "client_id":
                    let id = try string(entry, path)
                    guard !id.value.isEmpty else { throw fail(entry.line, "oauth.client_id is empty") }
                    layer.clientID = id
                case "client_secret": layer.clientSecret = try string(entry, path)
                case "client_secret_env":
                    let variable = try string(entry, path)
                    guard ProfileParser.isValidVariableName(variable.value) else {
                        throw fail(
                            entry.line, "oauth.client_secret_env: \(Quoting.message(variable.value)) is not an environment variable name"
                        )
                    }
                    layer.clientSecretEnv = variable
                case "ca_file":
                    let file = try string(entry, path)
                    if let problem = NetworkConfig.problem(withCAFile: file.value) { throw fail(entry.line, "\(path): \(problem)") }
                    layer.caFile = file
                case "scopes":
                    guard case .array(let items) = entry.value else {
                        throw fail(entry.line, "oauth.scopes must be an array of strings, found \(entry.value.typeName)")
                    }
                    var scopes: [String] = []
                    for item in items {
                        guard case .string(let scope) = item else {
                            throw fail(entry.line, "oauth.scopes must be an array of strings, found an element of type \(item.typeName)")
                        }
                        guard !scope.isEmpty, !scope.contains(where: { $0 == " " || $0.isNewline }) else {
                            throw fail(
                                entry.line,
                                "oauth.scopes: \(Quoting.message(scope)) is not a single scope (no spaces; list each scope separately)")
                        }
                        scopes.append(scope)
                    }
                    layer.scopes = Located(value: scopes, line: entry.line)
                case "auth_method":
                    layer.authMethod = try choice(entry, path, ClientAuthMethod.allCases.map(\.rawValue), noun: "method")
                case "grant_type":
                    layer.grantType = try choice(entry, path, GrantType.allCases.map(\.rawValue), noun: "grant type")
                case "redirect_port":
                    guard case .integer(let port) = entry.value, (1...65535).contains(port) else {
                        throw fail(entry.line, "oauth.redirect_port must be a port number from 1 to 65535")
                    }
                    layer.redirectPort = Located(value: Int(port), line: entry.line)
                case "redirect_host":
                    let host = try string(entry, path)
                    guard host.value == "127.0.0.1" || host.value == "localhost" else {
                        throw fail(
                            entry.line,
                            "oauth.redirect_host must be \"127.0.0.1\" or \"localhost\" (the redirect never leaves this machine)")
                    }
                    layer.redirectHost = host
                case "authorization_params":
                    let params = try table(entry, path)
                    for param in params.entries {
                        guard case .string(let value) = param.value else {
                            throw fail(
                                param.line, "oauth.authorization_params.\(param.key) must be a string, found \(param.value.typeName)")
                        }
                        layer.authorizationParams[param.key] = Located(value: value, line: param.line)
                    }
                default: break
                }
            }
        }

        func readRefresh(_ refresh: TOMLTable, into layer: inout ProfileLayer) throws(ProfileDiagnostic) {
            try checkKeys(refresh, allowed: ProfileParser.refreshKeys, prefix: "refresh.")
            if let entry = refresh.entry("serve") {
                guard case .boolean(let value) = entry.value else {
                    throw fail(entry.line, "refresh.serve must be true or false, found \(entry.value.typeName)")
                }
                layer.serveTokens = Located(value: value, line: entry.line)
            }
            if let entry = refresh.entry("on_refresh_signal") {
                layer.onRefreshSignal = try choice(entry, "refresh.on_refresh_signal", ChildSignals.names, noun: "signal")
            }
            guard let entry = refresh.entry("window") else { return }
            let seconds: Int64?
            switch entry.value {
            case .integer(let value): seconds = value >= 0 ? value : nil
            case .string(let text): seconds = DurationParser.seconds(text)
            default: seconds = nil
            }
            guard let seconds else {
                let found: String
                if case .string(let text) = entry.value {
                    found = Quoting.message(text)
                } else if case .integer(let n) = entry.value {
                    found = "\(n)"
                } else {
                    found = entry.value.typeName
                }
                throw fail(entry.line, "refresh.window: expected \(DurationParser.expectation), found \(found)")
            }
            layer.window = Located(value: seconds, line: entry.line)
        }

        func readEnv(_ env: TOMLTable, into layer: inout ProfileLayer) throws(ProfileDiagnostic) {
            for entry in env.entries {
                let path = "env.\(entry.key)"
                guard ProfileParser.isValidVariableName(entry.key) else {
                    throw fail(
                        entry.line,
                        "env: \(Quoting.message(entry.key)) is not an environment variable name (letters, digits and _, not starting with a digit)"
                    )
                }
                guard !KeyVariables.names.contains(entry.key), entry.key != "TOKENRUN_PROFILE" else {
                    throw fail(entry.line, "env: \(entry.key) is reserved by tokenrun and cannot be set by a profile")
                }
                let text = try string(entry, path)
                layer.env.append(.init(name: entry.key, template: try template(text.value, line: entry.line, path), line: entry.line))
            }
        }

        func readFiles(_ entry: TOMLTable.Entry, into layer: inout ProfileLayer) throws(ProfileDiagnostic) {
            guard case .array(let items) = entry.value else {
                throw fail(entry.line, "file must be an array of tables ([[file]]), found \(entry.value.typeName)")
            }
            var files: [ProfileLayer.LocatedFile] = []
            var seen: [String: Int] = [:]
            for item in items {
                guard case .table(let table) = item else {
                    throw fail(entry.line, "file must be an array of tables ([[file]]), found an element of type \(item.typeName)")
                }
                try checkKeys(table, allowed: ProfileParser.fileKeys, prefix: "file.")
                guard let pathEntry = table.entry("path_env") else {
                    throw fail(table.line, "[[file]] needs path_env, the variable that tells the child the file's path")
                }
                guard let templateEntry = table.entry("template") else {
                    throw fail(table.line, "[[file]] needs template, the file's contents (for example \"{{access_token}}\")")
                }
                let pathEnv = try string(pathEntry, "file.path_env")
                guard ProfileParser.isValidVariableName(pathEnv.value) else {
                    throw fail(pathEntry.line, "file.path_env: \(Quoting.message(pathEnv.value)) is not an environment variable name")
                }
                if let first = seen[pathEnv.value] {
                    throw fail(pathEntry.line, "file.path_env \"\(pathEnv.value)\" is already used by the [[file]] on line \(first)")
                }
                seen[pathEnv.value] = pathEntry.line
                let text = try string(templateEntry, "file.template")
                var name: String?
                if let nameEntry = table.entry("name") {
                    let value = try string(nameEntry, "file.name").value
                    guard ProfileParser.isValidName(value) else {
                        throw fail(
                            nameEntry.line, "file.name: \(Quoting.message(value)) must be a plain file name (letters, digits, . _ -)")
                    }
                    name = value
                }
                files.append(
                    .init(
                        pathEnv: pathEnv.value, template: try template(text.value, line: templateEntry.line, "file.template"), name: name,
                        line: table.line))
            }
            layer.files = Located(value: files, line: entry.line)
        }
    }
}
