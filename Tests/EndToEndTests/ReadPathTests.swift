import Foundation
import TestSupport
import Testing

@Suite("end to end: get, export, status and the audit trail")
struct ReadPathTests {
    @Test("get prints the token a real shell can use, and xoauth2/expires fields")
    func getToken() throws {
        let e = try EndToEnd()
        try e.login()
        let result = e.box.run([
            "-p", "demo", "--", "/bin/sh", "-c",
            "TOKEN=$(\(CLISandbox.binary) get -p demo) \(e.python) \(e.child) --url \(e.provider.url)",
        ])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("\"status\": 200"))
        let status = e.box.run(["get", "-p", "demo", "--field", "status"])
        #expect(status.stdout == "connected\n")
        let expiresIn = e.box.run(["get", "-p", "demo", "--field", "expires_in"])
        #expect((Int(expiresIn.stdout.split(separator: "\n").first ?? "") ?? 0) > 3000)
        let xoauth2 = e.box.run(["get", "-p", "demo", "--field", "xoauth2"])
        #expect(xoauth2.status == 0)
        // base64("user=alice@example.com\u{1}auth=Beare"), the start of the XOAUTH2 string
        #expect(xoauth2.stdout.hasPrefix("dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJl"))
        let json = e.box.run(["get", "-p", "demo", "--json"])
        #expect(json.stdout.contains("\"token_type\" : \"Bearer\""))
        // The keys docs/json-output.md documents for get.
        let object = (try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) as? [String: Any]
        #expect(
            Set(object?.keys.map { $0 } ?? [])
                == ["access_token", "expires_at", "expires_in", "profile", "scope", "status", "token_type"], "\(json.stdout)")
        #expect(try e.provider.stats().token_requests == 1)
    }

    @Test("export output, evaluated by a real sh, gives the child a working token and the expiry")
    func exportSh() throws {
        let e = try EndToEnd()
        try e.login()
        let result = e.box.run([
            "-p", "demo", "--", "/bin/sh", "-c",
            "unset TOKEN; eval \"$(\(CLISandbox.binary) export -p demo)\" && test -n \"$TOKENRUN_EXPIRES_AT\" && \(e.python) \(e.child) --url \(e.provider.url)",
        ])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("\"status\": 200"))
        let dotenv = e.box.run(["export", "-p", "demo", "--format", "dotenv"])
        #expect(dotenv.stdout.contains("TOKEN=\""))
        let fish = e.box.run(["export", "-p", "demo", "--format", "fish"])
        #expect(fish.stdout.contains("set -gx TOKEN '"))
        let json = e.box.run(["export", "-p", "demo", "--format", "json"])
        #expect(json.stdout.contains("\"TOKENRUN_PROFILE\" : \"demo\""))
    }

    @Test("status shows the live state and time left")
    func status() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.launch().status == 0)
        let result = e.box.run(["status"])
        #expect(result.stdout.contains("demo"))
        #expect(result.stdout.contains("connected"))
        #expect(result.stdout.contains("expires in"))
    }

    @Test("the audit trail records import, refresh, launch, exit, get and export, and no token")
    func auditTrail() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        #expect(e.launch(flags: ["--no-exec"]).status == 0)
        let token = String(e.box.run(["get", "-p", "demo"]).stdout.split(separator: "\n").first ?? "")
        _ = e.box.run(["export", "-p", "demo"])
        let audit = e.audit
        for event in ["import", "refresh", "launch", "exit", "get", "export"] {
            #expect(audit.contains("\"event\":\"\(event)\""), "\(event)")
        }
        #expect(audit.contains("\"rotated\":true"))
        #expect(!token.isEmpty)
        for secret in [token, seed.refresh_token, seed.access_token, "test-secret"] {
            #expect(!audit.contains(secret))
        }
        let log = e.box.run(["log", "-n", "3"])
        #expect(log.status == 0)
        #expect(log.stdout.split(separator: "\n").count == 3)
        let json = e.box.run(["log", "-p", "demo", "--json"])
        #expect(json.stdout.contains("\"event\":\"launch\""))
        for secret in [token, seed.refresh_token] { #expect(!json.all.contains(secret)) }
    }
}

@Suite("end to end: get --field xoauth2 without a username")
struct XOAuth2UsernameTests {
    @Test("get --field xoauth2 for a profile without username exits 78 naming the missing key, before any request")
    func xoauth2WithoutUsername() throws {
        let e = try EndToEnd()
        try e.login()
        let url = e.provider.tokenEndpoint
        e.box.writeProfile(
            "demo",
            """
            [oauth]
            token_endpoint = "\(url)"
            client_id = "tokenrun-test"
            client_secret = "test-secret"
            scopes = ["api.read", "offline_access"]
            """)
        let result = e.box.run(["get", "-p", "demo", "--field", "xoauth2"])
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("username"))
        #expect(try e.provider.stats().token_requests == 0)
    }
}
