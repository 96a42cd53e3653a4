import Testing
@testable import TokenrunProfiles
@testable import TokenrunSupport

@Suite("global configuration (config.toml)")
struct GlobalConfigTests {
    let dir = TemporaryDirectory()

    var path: String { dir.file("config/tokenrun/config.toml") }

    func load(_ text: String) throws -> GlobalConfig {
        try dir.write("config/tokenrun/config.toml", text)
        return try GlobalConfig.load(path: path)
    }

    /// Loads `text` and returns the diagnostic it fails with.
    func diagnostic(_ text: String) throws -> ProfileDiagnostic? {
        do {
            _ = try load(text)
            return nil
        } catch let error as TokenrunError {
            if case .profileInvalid(let diagnostic) = error { return diagnostic }
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("a missing file is an empty configuration")
    func missing() throws {
        #expect(try GlobalConfig.load(path: path) == GlobalConfig())
        #expect(try GlobalConfig.load(path: path).onReauthRequired == nil)
    }

    @Test("an empty file, or one with only comments, is an empty configuration")
    func empty() throws {
        #expect(try load("") == GlobalConfig())
        #expect(try load("# nothing here yet\n\n") == GlobalConfig())
    }

    @Test("on_reauth_required is read as written")
    func onReauthRequired() throws {
        let config = try load("# notify me\non_reauth_required = \"notify-send tokenrun \\\"$TOKENRUN_REAUTH_REASON\\\"\"\n")
        #expect(config.onReauthRequired == "notify-send tokenrun \"$TOKENRUN_REAUTH_REASON\"")
    }

    @Test("an unknown key names the file and line and suggests the nearest key")
    func unknownKey() throws {
        let found = try #require(try diagnostic("\n\non_reauth_requried = \"x\"\n"))
        #expect(found.file == path)
        #expect(found.line == 3)
        #expect(found.message.contains("unknown key \"on_reauth_requried\""))
        #expect(found.hint == "did you mean \"on_reauth_required\"?")
        #expect(found.description.hasPrefix("\(path):3: "))
        let far = try #require(try diagnostic("editor = \"vim\"\n"))
        #expect(far.hint == "valid keys here: on_reauth_required, network, vault")
    }

    @Test("a table is not a known key either")
    func unknownTable() throws {
        let found = try #require(try diagnostic("on_reauth_required = \"x\"\n[profiles]\ndefault = \"gmail\"\n"))
        #expect(found.message.contains("unknown key \"profiles\""))
    }

    @Test(
        "an empty or non-string command is refused, with its line",
        arguments: ["\"\"", "\"  \"", "\"\\n\"", "true", "[\"notify-send\"]", "3"])
    func emptyCommand(_ value: String) throws {
        let found = try #require(try diagnostic("\non_reauth_required = \(value)\n"))
        #expect(found.line == 2)
        #expect(found.message.contains("on_reauth_required must be a non-empty string"))
    }

    @Test("invalid TOML is reported with its line")
    func invalidTOML() throws {
        let found = try #require(try diagnostic("on_reauth_required = \"x\"\non_reauth_required = \"y\"\n"))
        #expect(found.line == 2)
        #expect(found.message.contains("invalid TOML"))
    }

    @Test("a date-time or a float in config.toml is refused naming config.toml, not as invalid TOML")
    func valuesNoKeyTakes() throws {
        let date = try #require(try diagnostic("\non_reauth_required = 2026-01-01\n"))
        #expect(date.line == 2)
        #expect(
            date.message == "a date-time is not allowed in config.toml; write it as a string: \"2026-01-01\" (column 22)")
        let float = try #require(try diagnostic("on_reauth_required = 1.5\n"))
        #expect(float.message == "a number with a fraction or exponent is not allowed in config.toml; write a whole number (column 22)")
    }

    @Test("an unreadable path (a directory) is a file system error, not an empty configuration")
    func directory() throws {
        try dir.write("config/tokenrun/config.toml/inner", "x")
        #expect(throws: TokenrunError.self) { try GlobalConfig.load(path: path) }
    }
}

@Suite("global configuration: the [network] table")
struct GlobalConfigNetworkTests {
    let dir = TemporaryDirectory()

    func load(_ text: String) throws -> GlobalConfig {
        try dir.write("config/tokenrun/config.toml", text)
        return try GlobalConfig.load(path: dir.file("config/tokenrun/config.toml"))
    }

    func message(_ text: String) -> String? {
        do {
            _ = try load(text)
            return nil
        } catch TokenrunError.profileInvalid(let diagnostic) {
            return diagnostic.message
        } catch {
            return "\(error)"
        }
    }

    @Test("proxy and ca_file are read as written; no table is an empty one")
    func read() throws {
        let config = try load("[network]\nproxy = \"http://proxy.corp:3128\"\nca_file = \"~/corp-ca.pem\"\n")
        #expect(config.network == NetworkConfig(proxy: "http://proxy.corp:3128", caFile: "~/corp-ca.pem"))
        #expect(try load("on_reauth_required = \"true\"\n").network == NetworkConfig())
        #expect(try load("[network]\nproxy = \"\"\n").network.proxy == "")
    }

    @Test("an unknown key, a relative ca_file, a strange proxy scheme or a non-string are errors that say so")
    func errors() {
        #expect(message("[network]\nproxi = \"x\"\n")?.contains("unknown key \"network.proxi\"") == true)
        #expect(message("[network]\nca_file = \"ca.pem\"\n")?.contains("not an absolute path") == true)
        #expect(message("[network]\nproxy = \"ftp://p:1\"\n")?.contains("not one of http, https") == true)
        #expect(message("[network]\nproxy = 3128\n")?.contains("must be a string") == true)
        #expect(message("network = \"x\"\n")?.contains("must be a table") == true)
    }
}
