// `tokenrun doctor` end to end: each named check seen passing and failing (or
// warning) through the built binary, against the real test provider where a
// check needs the network, and offline in a bare sandbox where it does not.
import FoundationEssentials
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: doctor")
struct DoctorEndToEndTests {
    /// One check as the text output shows it.
    struct Row {
        let status: String
        let line: String
        let fix: String?
    }

    /// The row of check `name` in doctor's text output.
    static func row(_ result: CLIResult, _ name: String) -> Row? {
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[1] == name else { continue }
            let next = index + 1 < lines.count ? lines[index + 1] : ""
            let fix = next.hasPrefix("      fix: ") ? String(next.dropFirst("      fix: ".count)) : nil
            return Row(status: String(parts[0]), line: line, fix: fix)
        }
        return nil
    }

    static func status(_ result: CLIResult, _ name: String) -> String? { row(result, name)?.status }

    struct Report: Decodable {
        struct Check: Decodable {
            let name: String
            let status: String
            let message: String
            let fix: String?
        }

        struct Summary: Decodable {
            let pass: Int
            let warn: Int
            let fail: Int
        }

        let checks: [Check]
        let summary: Summary
    }

    static let offlineProfile = """
        [oauth]
        token_endpoint = "https://auth.example.test/oauth/token"
        client_id = "tokenrun-cli"
        scopes = ["mail.read", "offline_access"]
        [env]
        TOKEN = "{{access_token}}"
        """

    /// A sandbox with profile acme and an imported credential, for the checks that need no network.
    static func offlineBox() -> CLISandbox {
        let box = CLISandbox()
        box.writeProfile("acme", offlineProfile)
        let imported = box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-offline-secret\n")
        precondition(imported.status == 0, imported.all)
        return box
    }

    // MARK: with the provider

    @Test("a healthy setup: every check passes and exit 0; --json decodes to the same checks; the probe sends no credentials")
    func healthy() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        #expect(e.launch().status == 0)
        let result = e.box.run(["doctor"])
        #expect(result.status == 0, "\(result.all)")
        let names = [
            "vault.present", "vault.readable", "vault.permissions", "key.source", "key.permissions", "profiles.valid",
            "profile.demo.quirks", "credential.demo.state", "credential.demo.issuer", "credential.demo.expiry",
            "credential.demo.scopes", "credential.demo.refresh_token", "endpoint.demo.proxy", "endpoint.demo.reachable",
            "endpoint.demo.clock", "files.leftovers",
        ]
        for name in names { #expect(Self.status(result, name) == "pass", "\(name) in \(result.stdout)") }
        #expect(!result.stdout.contains("fix:"))
        #expect(result.stdout.hasSuffix("\(names.count) passed, 0 warnings, 0 failed\n"))
        #expect(result.stderr.isEmpty)
        let stats = try e.provider.stats()
        #expect(stats.last_token_request?.grant_type == "tokenrun_doctor_probe")
        #expect(stats.last_token_request?.auth_method == "none")
        #expect(stats.last_token_request?.client_id == nil)

        let json = e.box.run(["doctor", "--json"])
        #expect(json.status == 0, "\(json.all)")
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(report.checks.map(\.name) == names)
        #expect(report.checks.allSatisfy { $0.status == "pass" && $0.fix == nil })
        #expect(report.summary.pass == names.count && report.summary.warn == 0 && report.summary.fail == 0)
        #expect(json.stdout.contains("\"fix\" : null"))

        for output in [result.all, json.all] {
            #expect(!output.contains(seed.refresh_token))
            #expect(!output.contains(seed.access_token))
            #expect(!output.contains("test-secret"))
        }
    }

    @Test("a grant revoked at the provider: after the failed refresh credential.state fails with a login fix; a new login passes")
    func revokedGrant() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.revokeUser("alice")
        #expect(e.launch().status == 77)
        let result = e.box.run(["doctor", "-p", "demo"])
        #expect(result.status == 1, "\(result.all)")
        let state = try #require(Self.row(result, "credential.demo.state"))
        #expect(state.status == "fail")
        #expect(state.line.contains("invalid"))
        #expect(state.fix == "tokenrun login -p demo")
        #expect(result.stdout.contains("failed\n"))
        try e.login()
        let again = e.box.run(["doctor", "-p", "demo"])
        #expect(again.status == 0, "\(again.all)")
        #expect(Self.status(again, "credential.demo.state") == "pass")
    }

    @Test("scopes added to the profile after the login fail credential.scopes with login --force")
    func scopesAdded() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.launch().status == 0)  // the refresh records the grant's scopes
        #expect(Self.status(e.box.run(["doctor", "--offline"]), "credential.demo.scopes") == "pass")
        e.box.writeProfile(
            "demo",
            """
            [oauth]
            token_endpoint = "\(e.provider.tokenEndpoint)"
            client_id = "tokenrun-test"
            client_secret = "test-secret"
            scopes = ["api.read", "offline_access", "api.write"]
            [env]
            TOKEN = "{{access_token}}"
            """)
        let result = e.box.run(["doctor", "--offline"])
        #expect(result.status == 1, "\(result.all)")
        let scopes = try #require(Self.row(result, "credential.demo.scopes"))
        #expect(scopes.status == "fail")
        #expect(scopes.line.contains("lacks api.write"))
        #expect(scopes.fix == "tokenrun login -p demo --force")
    }

    @Test("the provider stopped: endpoint.reachable fails naming the URL, the clock is not compared; --offline skips both")
    func providerStopped() throws {
        let e = try EndToEnd()
        try e.login()
        e.provider.stop()
        let result = e.box.run(["doctor"])
        #expect(result.status == 1, "\(result.all)")
        let reachable = try #require(Self.row(result, "endpoint.demo.reachable"))
        #expect(reachable.status == "fail")
        #expect(reachable.fix?.contains(e.provider.tokenEndpoint) == true)
        #expect(Self.row(result, "endpoint.demo.clock") == nil)
        let offline = e.box.run(["doctor", "--offline"])
        #expect(offline.status == 0, "\(offline.all)")
        #expect(!offline.stdout.contains("endpoint."))
    }

    @Test("the endpoint's answers: a 120 s clock skew warns (exit 0), 600 s fails (exit 1), an HTML page warns")
    func endpointAnswers() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.config(#"{"clock_skew":120}"#)
        let warned = e.box.run(["doctor"])
        #expect(warned.status == 0, "\(warned.all)")
        let warn = try #require(Self.row(warned, "endpoint.demo.clock"))
        #expect(warn.status == "warn")
        #expect(warn.line.contains("s behind"))
        #expect(warn.fix == "sync the clock: timedatectl set-ntp true")

        try e.provider.config(#"{"clock_skew":600}"#)
        let failed = e.box.run(["doctor"])
        #expect(failed.status == 1, "\(failed.all)")
        #expect(Self.status(failed, "endpoint.demo.clock") == "fail")
        #expect(Self.status(failed, "endpoint.demo.reachable") == "pass")

        try e.provider.config(#"{"clock_skew":0}"#)
        try e.provider.fault(#"{"kind":"html","count":1}"#)
        let html = e.box.run(["doctor"])
        let reachable = try #require(Self.row(html, "endpoint.demo.reachable"))
        #expect(reachable.status == "warn", "\(html.all)")
        #expect(reachable.line.contains("HTML page"))
        #expect(reachable.fix != nil)
    }

    // MARK: offline

    @Test("a vault open to other users fails vault.permissions with a chmod fix, exit 1; chmod 600 passes")
    func vaultPermissions() {
        let box = Self.offlineBox()
        chmod(box.vaultPath, 0o644)
        let result = box.run(["doctor", "--offline"])
        #expect(result.status == 1, "\(result.all)")
        let row = Self.row(result, "vault.permissions")
        #expect(row?.status == "fail")
        #expect(row?.fix == "chmod 600 \(box.vaultPath)")
        chmod(box.vaultPath, 0o600)
        let fixed = box.run(["doctor", "--offline"])
        #expect(fixed.status == 0, "\(fixed.all)")
        #expect(Self.status(fixed, "vault.permissions") == "pass")
    }

    @Test("a wrong key file fails key.source; a key file open to others fails key.permissions")
    func wrongKey() {
        let box = Self.offlineBox()
        box.write("other.key", String(repeating: "x", count: 32))
        let wrong = box.run(["doctor", "--offline"], environment: ["TOKENRUN_KEY_FILE": box.root + "/other.key"])
        #expect(wrong.status == 1, "\(wrong.all)")
        let key = Self.row(wrong, "key.source")
        #expect(key?.status == "fail")
        #expect(key?.line.contains("does not open the vault") == true)
        #expect(key?.fix?.contains("TOKENRUN_KEY_FILE") == true)
        #expect(Self.status(box.run(["doctor", "--offline"]), "key.source") == "pass")

        chmod(box.keyPath, 0o644)
        let open = box.run(["doctor", "--offline"])
        #expect(open.status == 1)
        #expect(Self.status(open, "key.permissions") == "fail")
        #expect(Self.row(open, "key.permissions")?.fix == "chmod 600 \(box.keyPath)")
    }

    @Test("a damaged vault fails vault.readable and is left byte for byte as it was")
    func corruptVault() throws {
        let box = Self.offlineBox()
        box.write("data/tokenrun/vault", "TOKENRUN-VAULT 2\n{\"key_source\":\"key_file\",")
        let before = box.read(box.vaultPath)
        let result = box.run(["doctor", "--offline"])
        #expect(result.status == 1, "\(result.all)")
        let row = try #require(Self.row(result, "vault.readable"))
        #expect(row.status == "fail")
        #expect(row.fix?.contains("restore") == true)
        #expect(box.read(box.vaultPath) == before)
    }

    @Test("an invalid profile fails profiles.valid naming file:line; fixing it passes")
    func invalidProfile() {
        let box = CLISandbox()
        box.writeProfile("broken", "description = \"x\"\n[oauth]\nscopez = [\"a\"]\n")
        let result = box.run(["doctor", "--offline"])
        #expect(result.status == 1, "\(result.all)")
        let row = Self.row(result, "profiles.valid")
        #expect(row?.status == "fail")
        #expect(row?.line.contains(box.profileDir + "/broken.toml:3") == true)
        #expect(row?.fix?.contains("did you mean \"scopes\"") == true)
        box.writeProfile("broken", "description = \"x\"\n[oauth]\nscopes = [\"a\"]\n")
        #expect(Self.status(box.run(["doctor", "--offline"]), "profiles.valid") == "pass")
    }

    @Test("a Microsoft profile without offline_access warns profile.quirks (exit 0); with it, it passes")
    func microsoftQuirk() {
        let box = CLISandbox()
        let profile = { (scopes: String) in
            """
            [oauth]
            token_endpoint = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
            client_id = "00000000-0000-0000-0000-000000000000"
            scopes = [\(scopes)]
            """
        }
        box.writeProfile("work", profile("\"Mail.Read\""))
        let result = box.run(["doctor", "--offline"])
        #expect(result.status == 0, "\(result.all)")
        let row = Self.row(result, "profile.work.quirks")
        #expect(row?.status == "warn")
        #expect(row?.line.contains("offline_access") == true)
        #expect(row?.fix?.contains("tokenrun login -p work --force") == true)
        box.writeProfile("work", profile("\"Mail.Read\", \"offline_access\""))
        #expect(Self.status(box.run(["doctor", "--offline"]), "profile.work.quirks") == "pass")
    }

    @Test("a leftover private directory of a dead launch warns files.leftovers with an rm -rf fix and is not removed")
    func leftovers() {
        let box = Self.offlineBox()
        #expect(Self.status(box.run(["doctor", "--offline"]), "files.leftovers") == "pass")
        box.write("runtime/tokenrun/run-99999999-deadbeef/acme", "token")
        let result = box.run(["doctor", "--offline"])
        #expect(result.status == 0, "\(result.all)")
        let row = Self.row(result, "files.leftovers")
        #expect(row?.status == "warn")
        #expect(row?.fix?.hasPrefix("rm -rf \(box.runtimeDir)/run-99999999-deadbeef") == true)
        #expect(box.read(box.runtimeDir + "/run-99999999-deadbeef/acme") == "token")
    }

    @Test("a passphrase vault with no non-interactive source warns key.source; with TOKENRUN_PASSPHRASE_FILE it passes")
    func passphraseVault() {
        let box = CLISandbox()
        box.write("pass", "open sesame\n")
        let env = ["TOKENRUN_PASSPHRASE_FILE": box.root + "/pass"]
        #expect(box.run(["vault", "init", "--passphrase", "--kdf-cost", "interactive"], environment: env).status == 0)
        box.writeProfile("acme", Self.offlineProfile)
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-1", environment: env).status == 0)
        let unlocked = box.run(["doctor", "--offline"], environment: env)
        #expect(unlocked.status == 0, "\(unlocked.all)")
        #expect(Self.status(unlocked, "key.source") == "pass")
        #expect(Self.status(unlocked, "credential.acme.state") == "pass")
        let locked = box.run(["doctor", "--offline"])
        #expect(locked.status == 0, "\(locked.all)")
        let row = Self.row(locked, "key.source")
        #expect(row?.status == "warn")
        #expect(row?.fix?.contains("TOKENRUN_PASSPHRASE_FILE") == true)
        #expect(!locked.all.contains("open sesame"))
    }

    @Test("no vault yet warns vault.present (exit 0); -p naming an unknown profile is an error (exit 78)")
    func noVaultAndUnknownProfile() {
        let box = CLISandbox()
        let empty = box.run(["doctor"])
        #expect(empty.status == 0, "\(empty.all)")
        #expect(Self.status(empty, "vault.present") == "warn")
        #expect(Self.row(empty, "vault.present")?.fix?.hasPrefix("tokenrun login -p") == true)
        #expect(empty.stdout.contains("1 warning,"))
        let unknown = box.run(["doctor", "-p", "nosuch"])
        #expect(unknown.status == 78, "\(unknown.all)")
        #expect(unknown.stderr.contains("tokenrun: error: no profile named \"nosuch\""))
        #expect(unknown.stdout.isEmpty)
    }
}
