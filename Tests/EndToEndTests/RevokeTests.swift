import TestSupport
import Testing

@Suite("end to end: revoke")
struct RevokeTests {
    @Test("revoke with a revocation endpoint kills the grant at the provider, then deletes the local record")
    func revokeRemote() throws {
        let s = try LoginSetup()
        let seed = try s.provider.seed(client: "tokenrun-public")
        #expect(s.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        let result = s.box.run(["revoke", "-p", "demo"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("revoked at \(s.provider.url)/oauth/revoke"))
        let stats = try s.provider.stats()
        #expect(stats.revocation_requests == 1)
        #expect(stats.revocations == 1)
        #expect(s.status().contains("not_logged_in"))
        // The refresh token is dead at the provider: importing it back fails at the first refresh.
        #expect(s.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        #expect(s.e.launch().status == 77)
        #expect(!result.all.contains(seed.refresh_token))
        #expect(!s.e.audit.contains(seed.refresh_token))
        #expect(s.e.audit.contains("\"event\":\"revoke\""))
    }

    @Test("revoke without a revocation endpoint deletes locally and says the grant must be withdrawn by hand")
    func revokeWithoutEndpoint() throws {
        let e = try EndToEnd()
        try e.login()
        let result = e.box.run(["revoke", "-p", "demo"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("no revocation endpoint"))
        #expect(result.stderr.contains("may still be valid at the provider"))
        #expect(try e.provider.stats().revocation_requests == 0)
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("not_logged_in"))
    }

    @Test("a failed remote revocation still deletes locally, says so, and exits 75 when the provider is down")
    func revokeProviderDown() throws {
        let s = try LoginSetup()
        let seed = try s.provider.seed(client: "tokenrun-public")
        #expect(s.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        s.provider.stop()
        let result = s.box.run(["revoke", "-p", "demo"])
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains("deleted, but remote revocation failed"))
        #expect(s.status().contains("not_logged_in"))
        #expect(s.e.audit.contains("remote_failed"))
    }

    @Test("revoke --local makes no request; revoking twice says there is nothing to revoke")
    func revokeLocal() throws {
        let s = try LoginSetup()
        let seed = try s.provider.seed(client: "tokenrun-public")
        #expect(s.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        let result = s.box.run(["revoke", "-p", "demo", "--local"])
        #expect(result.status == 0, "\(result.all)")
        #expect(try s.provider.stats().revocation_requests == 0)
        let again = s.box.run(["revoke", "-p", "demo"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("nothing to revoke"))
    }
}

@Suite("end to end: the on_reauth_required hook")
struct ReauthHookTests {
    @Test("the hook fires once when the credential turns invalid, with profile, reason and command, and no key variables")
    func firesOnce() throws {
        let e = try EndToEnd(extra: "")
        let log = e.box.root + "/hook.log"
        e.box.writeProfile(
            "demo",
            """
            on_reauth_required = 'echo "fired $TOKENRUN_PROFILE|$TOKENRUN_REAUTH_COMMAND|$TOKENRUN_REAUTH_REASON|${TOKENRUN_KEY_FILE:-nokey}" >> \(log)'
            [oauth]
            token_endpoint = "\(e.provider.tokenEndpoint)"
            client_id = "tokenrun-test"
            client_secret = "test-secret"
            scopes = ["api.read", "offline_access"]
            [env]
            TOKEN = "{{access_token}}"
            """)
        try e.login()
        try e.provider.revokeUser("alice")
        let key = ["TOKENRUN_KEY_FILE": e.box.keyPath]
        #expect(e.launch(environment: key).status == 77)
        #expect(e.launch(environment: key).status == 77)
        #expect(e.box.run(["get", "-p", "demo"], environment: key).status == 77)
        let lines = (e.box.read(log) ?? "").split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("fired demo|tokenrun login -p demo|"))
        #expect(line.contains("invalid_grant"))
        #expect(line.hasSuffix("|nokey"))
        #expect(e.audit.contains("\"event\":\"reauth_hook\""))
        // A new login re-arms it.
        try e.login()
        try e.provider.revokeUser("alice")
        #expect(e.launch().status == 77)
        #expect((e.box.read(log) ?? "").split(separator: "\n").count == 2)
    }

    @Test("the global config's hook is used for profiles without one, and its output never reaches stdout")
    func globalHook() throws {
        let e = try EndToEnd()
        let log = e.box.root + "/global.log"
        e.box.write("config/tokenrun/config.toml", "on_reauth_required = 'echo on-stdout; echo \"$TOKENRUN_PROFILE\" >> \(log)'\n")
        try e.login()
        try e.provider.revokeUser("alice")
        let get = e.box.run(["get", "-p", "demo"])
        #expect(get.status == 77)
        #expect(get.stdout.isEmpty)
        #expect(get.stderr.contains("on-stdout"))
        #expect(e.box.read(log) == "demo\n")
    }

    @Test("a broken global config does not hide the real error; the audit trail records why the hook did not run")
    func brokenGlobalConfig() throws {
        let e = try EndToEnd()
        e.box.write("config/tokenrun/config.toml", "on_reauth_requird = 'true'\n")
        try e.login()
        try e.provider.revokeUser("alice")
        let result = e.launch()
        #expect(result.status == 77)
        #expect(e.audit.contains("\"event\":\"reauth_hook\""))
        #expect(e.audit.contains("unknown key"))
    }
}
