import Foundation
import TestSupport
import Testing

/// The keys docs/json-output.md documents, per command (DocsCLITests checks that the page names each).
enum DocumentedJSON {
    static let status: Set = [
        "expires_at", "expires_in", "has_refresh_token", "kind", "last_error", "last_fleet_refresh", "missing_scopes", "needs_login",
        "profile", "profile_exists", "scopes", "state",
    ]
    static let doctor: Set = ["checks", "summary"]
    static let doctorCheck: Set = ["fix", "message", "name", "status"]
    static let doctorSummary: Set = ["fail", "pass", "warn"]
    static let profilesList: Set = ["description", "error", "name", "source"]
    static let profilesShow: Set = [
        "chain", "description", "env", "exec", "expose_refresh_token", "files", "kind", "name", "oauth", "on_reauth_required", "refresh",
        "source", "username",
    ]
    static let profilesShowOAuth: Set = [
        "auth_method", "authorization_endpoint", "authorization_params", "client_id", "client_secret_env", "client_secret_set",
        "device_authorization_endpoint", "grant_type", "redirect_host", "redirect_port", "revocation_endpoint", "scopes",
        "token_endpoint",
    ]
    static let profilesShowRefresh: Set = ["on_refresh_signal", "window_seconds"]
    static let profilesShowFile: Set = ["name", "path_env", "template"]
    static let vaultStatus: Set = [
        "backend", "created_at", "credentials", "exists", "key_source", "keyring", "keyring_expires_in", "keyring_name", "path", "shared",
        "unlocks",
    ]
    static let logRecordAlways: Set = ["event", "pid", "profiles", "time", "uid"]
    static let logRecordAll: Set = [
        "attempts", "command", "detail", "duration_ms", "error_class", "event", "exec", "http_status", "key_changed_from", "key_id",
        "latency_ms",
        "mac", "outcome", "pid", "prev", "profiles", "rotated", "seq", "signal", "status", "time", "uid",
    ]
}

/// Decodes one JSON document; nil when it is not JSON.
func decodeJSON(_ text: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

func keys(_ value: Any?) -> Set<String> {
    Set((value as? [String: Any])?.keys.map { $0 } ?? [])
}

@Suite("tokenrun --json shapes")
struct JSONOutputCLITests {
    let box = CLISandbox()

    init() {
        box.writeProfile(
            "acme",
            acmeProfile + "\n"
                + """
                scopes = ["mail.read"]
                client_secret = "json-secret-value"
                [[file]]
                path_env = "ACME_TOKEN_FILE"
                template = "{{access_token}}"
                """)
    }

    @Test("status --json: an array of objects with exactly the documented keys, absent values null")
    func status() {
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-json-1\n").status == 0)
        let result = box.run(["status", "--json"])
        #expect(result.status == 0, "\(result.all)")
        let rows = decodeJSON(result.stdout) as? [[String: Any]] ?? []
        #expect(rows.count == 1, "\(result.stdout)")
        for row in rows { #expect(keys(row) == DocumentedJSON.status, "\(row)") }
        #expect(rows.first?["expires_at"] is NSNull)
        #expect(!result.all.contains("rt-json-1"))
    }

    @Test("doctor --json: checks and summary with the documented keys")
    func doctor() {
        let result = box.run(["doctor", "--offline", "--json"])
        let report = decodeJSON(result.stdout) as? [String: Any]
        #expect(keys(report) == DocumentedJSON.doctor, "\(result.all)")
        let checks = report?["checks"] as? [[String: Any]] ?? []
        #expect(!checks.isEmpty)
        for check in checks { #expect(keys(check) == DocumentedJSON.doctorCheck) }
        #expect(keys(report?["summary"]) == DocumentedJSON.doctorSummary)
    }

    @Test("profiles list --json: one object per profile with the documented keys")
    func profilesList() {
        let result = box.run(["profiles", "list", "--json"])
        #expect(result.status == 0, "\(result.all)")
        let rows = decodeJSON(result.stdout) as? [[String: Any]] ?? []
        #expect(rows.contains { $0["name"] as? String == "acme" })
        for row in rows { #expect(keys(row) == DocumentedJSON.profilesList, "\(row)") }
    }

    @Test("profiles show --json: the resolved profile with the documented keys, the client secret only as a flag")
    func profilesShow() {
        let result = box.run(["profiles", "show", "acme", "--json"])
        #expect(result.status == 0, "\(result.all)")
        let profile = decodeJSON(result.stdout) as? [String: Any]
        #expect(keys(profile) == DocumentedJSON.profilesShow, "\(result.stdout)")
        #expect(keys(profile?["oauth"]) == DocumentedJSON.profilesShowOAuth)
        #expect(keys(profile?["refresh"]) == DocumentedJSON.profilesShowRefresh)
        let files = profile?["files"] as? [[String: Any]] ?? []
        #expect(files.count == 1)
        for file in files { #expect(keys(file) == DocumentedJSON.profilesShowFile) }
        #expect((profile?["oauth"] as? [String: Any])?["client_secret_set"] as? Bool == true)
        #expect(!result.all.contains("json-secret-value"))
        let builtin = box.run(["profiles", "show", "gmail", "--json"])
        #expect(keys(decodeJSON(builtin.stdout)) == DocumentedJSON.profilesShow, "\(builtin.all)")
    }

    @Test("vault status --json: the documented keys, with and without a vault")
    func vaultStatus() {
        let none = box.run(["vault", "status", "--json"])
        #expect(keys(decodeJSON(none.stdout)) == DocumentedJSON.vaultStatus, "\(none.all)")
        #expect(box.run(["vault", "init"]).status == 0)
        let made = box.run(["vault", "status", "--json"])
        let report = decodeJSON(made.stdout) as? [String: Any]
        #expect(keys(report) == DocumentedJSON.vaultStatus, "\(made.all)")
        #expect(report?["unlocks"] as? Bool == true)
    }

    @Test("log --json: one object per line, each with the always-present keys and no undocumented one")
    func log() {
        #expect(box.run(["import", "-p", "acme", "--refresh-token-stdin"], stdin: "rt-json-2\n").status == 0)
        let result = box.run(["log", "--json"])
        #expect(result.status == 0, "\(result.all)")
        let lines = result.stdout.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let record = keys(decodeJSON(String(line)))
            #expect(record.isSuperset(of: DocumentedJSON.logRecordAlways), "\(line)")
            #expect(record.isSubset(of: DocumentedJSON.logRecordAll), "\(line)")
        }
    }
}
