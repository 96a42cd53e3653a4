import TestSupport
import Testing

@Suite("tokenrun profiles")
struct ProfilesCLITests {
    let box = CLISandbox()

    @Test("profiles list shows built-ins and user profiles with source and description")
    func list() {
        box.writeProfile("acme", "description = \"ACME mail API\"\n" + acmeProfile)
        let result = box.run(["profiles", "list"])
        #expect(result.status == 0, "\(result.all)")
        for name in ["generic", "github", "gmail", "google", "microsoft", "outlook"] {
            #expect(result.stdout.contains("\(name) "), "\(name)")
        }
        #expect(result.stdout.contains("acme"))
        #expect(result.stdout.contains(box.profileDir + "/acme.toml"))
        #expect(result.stdout.contains("ACME mail API"))
        #expect(result.stdout.contains("built-in"))
        let json = box.run(["profiles", "list", "--json"])
        #expect(json.stdout.contains("\"name\" : \"gmail\""))
    }

    @Test("profiles list still lists a broken profile, marked invalid")
    func listBroken() {
        box.writeProfile("broken", "[oauth\n")
        let result = box.run(["profiles", "list"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("INVALID"))
    }

    @Test("profiles show prints the merged profile with the client secret masked")
    func show() {
        box.writeProfile(
            "mine",
            """
            extends = "gmail"
            username = "me@gmail.com"
            [oauth]
            client_id = "123.apps.googleusercontent.com"
            client_secret = "very-secret-value"
            """)
        let result = box.run(["profiles", "show", "mine"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("token_endpoint = \"https://oauth2.googleapis.com/token\""))
        #expect(result.stdout.contains("client_id = \"123.apps.googleusercontent.com\""))
        #expect(result.stdout.contains("access_type = \"offline\""))
        #expect(result.stdout.contains("client_secret = \"********\""))
        #expect(!result.all.contains("very-secret-value"))
        let missing = box.run(["profiles", "show", "nope"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("tokenrun: error: no profile named \"nope\""))
        #expect(missing.stderr.contains("tokenrun: hint:"))
    }

    @Test("profiles validate passes the built-ins and reports a bad user profile with file, line and hint, exit 78")
    func validateAll() {
        let clean = box.run(["profiles", "validate"])
        #expect(clean.status == 0, "\(clean.all)")
        #expect(clean.stdout.contains("ok  gmail  (built-in)"))
        box.writeProfile("typo", "[oauth]\nclient_id = \"x\"\nscope = [\"a\"]\n")
        let bad = box.run(["profiles", "validate"])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("\(box.profileDir)/typo.toml:3: unknown key \"oauth.scope\""))
        #expect(bad.stderr.contains("tokenrun: hint: did you mean \"scopes\"?"))
        #expect(bad.stdout.contains("ok  gmail"))
    }

    @Test("profiles validate FILE checks one file, wherever it is")
    func validateFile() {
        box.write("elsewhere/acme.toml", acmeProfile)
        let good = box.run(["profiles", "validate", box.root + "/elsewhere/acme.toml"])
        #expect(good.status == 0, "\(good.all)")
        box.write("elsewhere/bad.toml", "[refresh]\nwindow = \"soon\"\n")
        let bad = box.run(["profiles", "validate", box.root + "/elsewhere/bad.toml"])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("bad.toml:2: refresh.window: expected a duration"))
        box.write("elsewhere/http.toml", "[oauth]\ntoken_endpoint = \"http://auth.example.com/token\"\n")
        let http = box.run(["profiles", "validate", box.root + "/elsewhere/http.toml"])
        #expect(http.status == 78)
        #expect(http.stderr.contains("http.toml:2: oauth.token_endpoint"))
        #expect(http.stderr.contains("must be https except on loopback"))
        let missing = box.run(["profiles", "validate", box.root + "/elsewhere/none.toml"])
        #expect(missing.status == 78)
    }

    @Test(
        "a profile holding a date-time, a fractional number or a 0x/0o/0b integer exits 78 naming the file, line and column, what a profile cannot hold and how to write it"
    )
    func valuesAProfileCannotHold() {
        let cases: [(name: String, text: String, message: String)] = [
            (
                "when", "description = \"ACME\"\n[refresh]\nwindow = 2026-01-01T00:00:00Z\n",
                "when.toml:3: a date-time is not allowed in a profile; write it as a string: \"2026-01-01T00:00:00Z\" (column 10)"
            ),
            (
                "fraction", acmeProfile + "\n[refresh]\nwindow = 1.5e2\n",
                "fraction.toml:5: a number with a fraction or exponent is not allowed in a profile; write a whole number (column 10)"
            ),
            (
                "hex", acmeProfile + "\nredirect_port = 0x1F90\n",
                "hex.toml:4: a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal: 8080 (column 17)"
            ),
        ]
        for c in cases {
            box.writeProfile(c.name, c.text)
            let file = box.profileDir + "/\(c.name).toml"
            for arguments in [["get", "-p", c.name], ["profiles", "validate", file]] {
                let result = box.run(arguments)
                #expect(result.status == 78, "\(arguments): \(result.all)")
                #expect(result.stderr.hasPrefix("tokenrun: error: \(box.profileDir)/\(c.message)\n"), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("tokenrun: hint: fix line "), "\(arguments): \(result.stderr)")
                if arguments[0] == "get" { #expect(result.stdout.isEmpty, "no token for a refused profile: \(result.stdout)") }
            }
        }
    }

    @Test("TOKENRUN_PROFILE_PATH is searched before the user directory")
    func profilePath() {
        box.writeProfile("acme", "description = \"user dir\"\n")
        box.write("extra/acme.toml", "description = \"from path\"\n")
        let result = box.run(["profiles", "list"], environment: ["TOKENRUN_PROFILE_PATH": box.root + "/extra"])
        #expect(result.stdout.contains("from path"))
        #expect(!result.stdout.contains("user dir"))
    }

    @Test("--help explains the command, files, key sources and exit statuses")
    func help() {
        let result = box.run(["--help"])
        #expect(result.status == 0)
        for word in ["import", "status", "profiles", "vault", "TOKENRUN_KEY_FILE", "77", "78"] {
            #expect(result.stdout.contains(word), "\(word)")
        }
        let importHelp = box.run(["import", "--help"])
        #expect(importHelp.stdout.contains("--refresh-token-stdin"))
    }
}
