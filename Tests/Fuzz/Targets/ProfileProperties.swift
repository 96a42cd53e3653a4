// Properties of reading a profile, for any bytes:
// - the parser returns a layer or a diagnostic naming this file and a line
//   inside the document, with a message fit for a terminal;
// - loading it (as a built-in, so no file system is involved) gives a profile
//   or a configuration error (exit 78) fit for a terminal;
// - a profile that loads, printed by `profiles show`, loads again to the same
//   profile (the client secret is masked there, so only its presence counts).
import TokenrunKit

enum ProfileProperties {
    static let file = "/fuzz/profiles/fuzz.toml"
    /// No real profile directory is ever searched.
    static let environment = ["HOME": "/nonexistent/tokenrun-fuzz", "XDG_CONFIG_HOME": "/nonexistent/tokenrun-fuzz/config"]

    static let dictionary = [
        "[", "]", "[[", "]]", "{", "}", "\"", "'", "\"\"\"", "'''", " = ", ".", ",", "#", "\n", "\r\n", "\\", "\\u001b", "\\U0010FFFF",
        "true", "false", "-1", "0x7FFFFFFFFFFFFFFF", "9223372036854775808", "1e400", "nan", "1979-05-27T07:32:00Z",
        "[oauth]\n", "[refresh]\n", "[env]\n", "[[file]]\n", "[oauth.authorization_params]\n", "description = ", "username = ",
        "extends = ", "kind = ", "expose_refresh_token = ", "on_reauth_required = ", "token_endpoint = ", "authorization_endpoint = ",
        "device_authorization_endpoint = ", "revocation_endpoint = ", "client_id = ", "client_secret = ", "client_secret_env = ",
        "scopes = ", "auth_method = ", "authorization_params = ", "grant_type = ", "redirect_port = ", "redirect_host = ",
        "window = ", "path_env = ", "template = ", "name = ", "\"https://auth.example.test/token\"", "\"http://127.0.0.1:1/t\"",
        "\"5m\"", "\"1h30m\"", "{{access_token}}", "{{refresh_token}}", "{{xoauth2}}", "{{", "}}", "\"api_key\"",
        "\"client_credentials\"", "\"client_secret_post\"", "\"fuzz\"", "\"gmail\"", "TOKEN", "\"\\u0000\"",
    ]

    static func check(_ bytes: [UInt8], _ expect: inout Expectations) {
        let lines = bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        do {
            _ = try ProfileParser.parse(bytes: bytes, name: "fuzz", file: file)
        } catch {
            expect.expect(error.file == file, "the diagnostic names \(error.file), not the file read")
            if let line = error.line {
                expect.expect((1...lines).contains(line), "the diagnostic names line \(line) of a \(lines)-line file: \(error)")
            }
            expect.expect(!error.message.isEmpty, "a diagnostic without a message")
            expect.expectPrintable(TokenrunError.profileInvalid(error), "parsing")
            return
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            expect.expect(false, "bytes that are not UTF-8 parsed as a profile")
            return
        }
        guard let profile = load(text, &expect, context: "loading") else { return }
        let shown = ProfileRendering.toml(profile)
        guard let again = load(shown, &expect, context: "loading the output of `profiles show`") else {
            expect.expect(false, "`profiles show` printed a profile that does not load again:\n\(shown)")
            return
        }
        expect.expect(
            comparable(again) == comparable(profile),
            "`profiles show` changed the profile:\nbefore: \(profile)\nafter:  \(again)\nshown:\n\(shown)")
    }

    /// Loads `text` as the built-in profile "fuzz"; nil after a (checked) error.
    static func load(_ text: String, _ expect: inout Expectations, context: String) -> Profile? {
        do {
            return try ProfileStore(environment: environment, builtins: ["fuzz": text]).load("fuzz")
        } catch let error as TokenrunError {
            expect.expect(error.exitStatus == .configuration, "\(context): a profile error that does not exit 78: \(error)")
            expect.expectPrintable(error, context)
        } catch {
            expect.expect(false, "\(context): an error that is not a TokenrunError: \(error)")
        }
        return nil
    }

    /// The profile with its client secret reduced to whether one is set.
    static func comparable(_ profile: Profile) -> Profile {
        var copy = profile
        copy.oauth.clientSecret = profile.oauth.clientSecret.map { _ in SecretString("set") }
        return copy
    }
}
