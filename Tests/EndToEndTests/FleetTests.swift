// Fleet mode: several hosts (separate homes sharing one key file) and one shared
// vault in a real PostgreSQL server (TestPostgres: Debian's, made with initdb,
// run as nobody when the tests are root). tokenrun reaches it only through
// tokenrun-pg, over libpq, with the URL on the helper's stdin.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One "host" of a fleet: a home of its own, the fleet's URL, its own host name.
final class FleetHost: @unchecked Sendable {
    let box: CLISandbox
    let name: String
    var url: String

    init(_ name: String, url: String, box: CLISandbox = CLISandbox()) {
        self.name = name
        self.url = url
        self.box = box
    }

    var environment: [String: String] { ["TOKENRUN_VAULT_URL": url, "TOKENRUN_HOSTNAME": name] }

    func run(_ arguments: [String], stdin: String = "", environment extra: [String: String] = [:]) -> CLIResult {
        box.run(arguments, stdin: stdin, environment: environment.merging(extra) { $1 })
    }

    /// Copies the fleet's key file from `other` (mode 600), as an operator would.
    func copyKey(from other: FleetHost) {
        box.write(path: box.keyPath, bytes: readBytes(other.box.keyPath)!, mode: 0o600)
    }
}

@Suite("end to end: fleet mode (PostgreSQL)", .serialized)
struct FleetTests {
    let db: TestDatabase

    init() throws { db = try TestPostgres.shared().makeDatabase() }

    @Test("infrastructure: the server runs, as nobody when the tests are root, and wants a password")
    func infrastructure() throws {
        #expect(try db.server.admin("SELECT 1").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        if geteuid() == 0 {
            let owner = try db.server.admin("SELECT usename FROM pg_user WHERE usesuper LIMIT 1")
            #expect(owner.contains(TestPostgres.admin))
            let dataOwner = try #require(fileOwner(db.server.root + "/data"))
            #expect(dataOwner != 0, "the data directory belongs to root: the server would not start")
        }
        let wrong = CLISandbox().run(
            ["-X", "-h", "127.0.0.1", "-p", "\(db.port)", "-U", TestPostgres.admin, "-c", "SELECT 1", "postgres"],
            environment: ["PGPASSWORD": "wrong"], program: "/usr/bin/psql")
        #expect(wrong.status != 0 && wrong.stderr.contains("password authentication failed"), "\(wrong.all)")
    }

    @Test("vault init with a URL creates the tables once, makes this host's vault the shared one, and shows the URL redacted")
    func initCreatesTheSharedVault() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        let made = a.run(["vault", "init"])
        #expect(made.status == 0, "\(made.all)")
        #expect(
            made.stdout.contains("created the shared vault's tables in postgresql://***@127.0.0.1:\(db.port)/\(db.name) (schema 1)"),
            "\(made.all)")
        #expect(!made.all.contains(TestPostgres.adminPassword))
        #expect(FileManagerLike.exists(a.box.vaultPath) && FileManagerLike.exists(a.box.keyPath))
        let tables = try db.admin("SELECT tablename FROM pg_tables WHERE tablename LIKE 'tokenrun_%' ORDER BY 1")
        #expect(tables.split(separator: "\n") == ["tokenrun_meta", "tokenrun_records", "tokenrun_refreshes"], "\(tables)")
        #expect(try db.admin("SELECT value FROM tokenrun_meta WHERE name = 'schema'").hasPrefix("1"))
        // The header the database holds is the local file's second line, byte for byte.
        let header = try db.admin("SELECT value FROM tokenrun_meta WHERE name = 'header'")
        let fileHeader = try #require(a.box.read(a.box.vaultPath)).split(separator: "\n")[1]
        #expect(header.trimmingCharacters(in: .whitespacesAndNewlines) == String(fileHeader))

        let again = a.run(["vault", "init"])
        #expect(again.status == 0, "\(again.all)")
        #expect(again.stdout.contains("already the shared vault's copy"), "\(again.all)")
        #expect(!again.stdout.contains("created the shared vault's tables"))

        let migrate = a.run(["vault", "migrate"])
        #expect(migrate.status == 0 && migrate.stdout.contains("is at schema 1"), "\(migrate.all)")

        let status = a.run(["vault", "status"])
        #expect(status.status == 0, "\(status.all)")
        #expect(status.stdout.contains("shared:       postgresql://***@127.0.0.1:\(db.port)/\(db.name) (PostgreSQL"), "\(status.all)")
        #expect(status.stdout.contains("schema 1, 0 credentials"), "\(status.all)")
        #expect(!status.all.contains(TestPostgres.adminPassword))
        let json = a.run(["vault", "status", "--json"])
        #expect(json.stdout.contains(#""backend" : "postgresql""#), "\(json.all)")
        #expect(json.stdout.contains(#""reachable" : true"#), "\(json.all)")
        #expect(!json.all.contains(TestPostgres.adminPassword))
    }

    @Test("a second host needs the fleet's key file: without it, or with another vault of its own, nothing is written")
    func secondHostAdoptsTheHeader() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        #expect(a.run(["vault", "init"]).status == 0)
        let b = FleetHost("host-b", url: db.adminURL)
        let keyless = b.run(["vault", "init"])
        #expect(keyless.status == 78, "\(keyless.all)")
        #expect(keyless.stderr.contains("this host has no copy of the fleet's vault key"), "\(keyless.all)")
        #expect(keyless.stderr.contains("hint: copy the key file of the host that ran tokenrun vault init first"), "\(keyless.all)")
        #expect(!FileManagerLike.exists(b.box.vaultPath))

        let c = FleetHost("host-c", url: db.adminURL)
        #expect(c.box.run(["vault", "init"], environment: ["TOKENRUN_VAULT_URL": ""]).status == 0)  // a vault of its own
        let other = c.run(["vault", "init"])
        #expect(other.status == 78, "\(other.all)")
        #expect(other.stderr.contains("is another vault than the shared one"), "\(other.all)")

        b.copyKey(from: a)
        let adopted = b.run(["vault", "init"])
        #expect(adopted.status == 0, "\(adopted.all)")
        #expect(adopted.stdout.contains("created this host's copy of the shared vault"), "\(adopted.all)")
        let aHeader = try #require(a.box.read(a.box.vaultPath)).split(separator: "\n")[1]
        let bHeader = try #require(b.box.read(b.box.vaultPath)).split(separator: "\n")[1]
        #expect(aHeader == bHeader)
        #expect(b.run(["vault", "status"]).status == 0)
    }

    @Test(
        "vault push copies sealed records as the file holds them; the database holds no token or secret in clear; a differing record is kept unless --replace"
    )
    func pushAndDump() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let a = FleetHost("host-a", url: db.adminURL, box: e.box)
        #expect(a.run(["vault", "init"]).status == 0)
        let pushed = a.run(["vault", "push"])
        #expect(pushed.status == 0, "\(pushed.all)")
        #expect(pushed.stdout.contains("pushed 1 credential to postgresql://***@"), "\(pushed.all)")
        let row = try db.admin("SELECT profile || ' ' || sealed || ' ' || mac || ' ' || version || ' ' || updated_by FROM tokenrun_records")
        let line = try #require(e.box.read(e.box.vaultPath)).split(separator: "\n").first { $0.hasPrefix("demo ") }
        #expect(row.hasPrefix(String(try #require(line)) + " 1 host-a"), "\(row)")

        let dump = try db.dump()
        #expect(dump.contains("tokenrun_records"))
        #expect(!dump.contains(seed.refresh_token), "the refresh token is in the database in clear")
        #expect(!dump.contains("test-secret"))
        #expect(!dump.contains(try #require(readBytes(e.box.keyPath)).map { String($0, radix: 16) }.joined()))

        let same = a.run(["vault", "push"])
        #expect(same.stdout.contains("pushed 0 credentials") && same.stdout.contains("(1 already there)"), "\(same.all)")
        // The shared vault holding another record for demo (another host's): push keeps it.
        try db.admin("UPDATE tokenrun_records SET sealed = 'another-host-s-record'")
        let kept = a.run(["vault", "push"])
        #expect(kept.status == 0 && kept.stderr.contains("kept the shared vault's record of demo"), "\(kept.all)")
        #expect(try db.admin("SELECT version FROM tokenrun_records").hasPrefix("1"))
        let replaced = a.run(["vault", "push", "--replace"])
        #expect(replaced.stdout.contains("pushed 1 credential"), "\(replaced.all)")
        #expect(try db.admin("SELECT version FROM tokenrun_records").hasPrefix("2"))
    }

    @Test("import and revoke on a host write the shared vault's row (a new version, then none)")
    func importAndRevokeReachTheSharedVault() throws {
        let e = try EndToEnd()
        try e.login()
        let a = FleetHost("host-a", url: db.adminURL, box: e.box)
        #expect(a.run(["vault", "init"]).status == 0)
        #expect(a.run(["vault", "push"]).status == 0)
        let seed = try e.provider.seed()
        let imported = a.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token + "\n")
        #expect(imported.status == 0, "\(imported.all)")
        let row = try db.admin("SELECT version || ' ' || updated_by || ' ' || sealed FROM tokenrun_records WHERE profile = 'demo'")
        let line = try #require(e.box.read(e.box.vaultPath)).split(separator: "\n").first { $0.hasPrefix("demo ") }
        let sealed = try #require(line).split(separator: " ")[1]
        #expect(row.trimmingCharacters(in: .whitespacesAndNewlines) == "2 host-a \(sealed)", "\(row)")
        let revoked = a.run(["revoke", "-p", "demo"])
        #expect(revoked.status == 0, "\(revoked.all)")
        #expect(try db.admin("SELECT count(*) FROM tokenrun_records").hasPrefix("0"))
    }

    @Test("the least privileges of the README suffice for the hosts; its password can live in ~/.pgpass")
    func leastPrivileges() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        #expect(a.run(["vault", "init"]).status == 0)
        let fleet = FleetHost("host-f", url: db.url())
        fleet.copyKey(from: a)
        let before = fleet.run(["vault", "status"])
        #expect(
            before.stdout.contains("cannot use it: the shared vault postgresql://***@") && before.stdout.contains("permission denied"),
            "\(before.all)")  // no grants yet
        try db.grantFleetRole()
        let joined = fleet.run(["vault", "init"])
        #expect(joined.status == 0, "\(joined.all)")
        #expect(fleet.run(["vault", "migrate"]).status == 0)
        #expect(fleet.run(["vault", "push"]).status == 0)
        let noCreate = try db.admin("SELECT has_database_privilege('tokenrun_fleet', current_database(), 'CREATE')").trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(noCreate == "f")

        // The same role with its password in ~/.pgpass (mode 600) and none in the URL.
        fleet.url = db.url(password: nil)
        fleet.box.write(".pgpass", "127.0.0.1:\(db.port):\(db.name):\(TestPostgres.fleetRole):\(TestPostgres.fleetPassword)\n", mode: 0o600)
        let status = fleet.run(["vault", "status"])
        #expect(status.status == 0 && status.stdout.contains("schema 1"), "\(status.all)")

        // Or a libpq service name, from the file PGSERVICEFILE names (libpq reads it in tokenrun-pg).
        fleet.box.write("pg_service.conf", "[fleet]\nhost=127.0.0.1\nport=\(db.port)\ndbname=\(db.name)\nuser=\(TestPostgres.fleetRole)\n")
        fleet.url = "postgresql:///?service=fleet"
        let service = fleet.run(["vault", "status"], environment: ["PGSERVICEFILE": fleet.box.root + "/pg_service.conf"])
        #expect(service.status == 0 && service.stdout.contains("schema 1"), "\(service.all)")
    }

    /// doctor's vault.shared check: its status and message.
    func sharedCheck(_ host: FleetHost, _ extra: [String] = []) throws -> (status: String, message: String, fix: String?) {
        let result = host.run(["doctor", "--json"] + extra)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.all)")
        let checks = try #require(report["checks"] as? [[String: Any]])
        let check = try #require(checks.first { $0["name"] as? String == "vault.shared" }, "\(result.stdout)")
        #expect(!result.all.contains(TestPostgres.adminPassword))
        return (check["status"] as? String ?? "", check["message"] as? String ?? "", check["fix"] as? String)
    }

    @Test("doctor's vault.shared: the database, its schema and whether this host's vault is its copy; skipped --offline")
    func doctorCheck() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        let empty = try sharedCheck(a)
        #expect(empty.status == "fail" && empty.message.contains("holds no tokenrun tables"), "\(empty)")
        #expect(a.run(["vault", "init"]).status == 0)
        let good = try sharedCheck(a)
        #expect(
            good.status == "pass" && good.message.contains("schema 1") && good.message.contains("this host's vault is its copy"), "\(good)")
        #expect(good.message.hasPrefix("postgresql://***@127.0.0.1:\(db.port)/\(db.name)"), "\(good)")
        let offline = try sharedCheck(a, ["--offline"])
        #expect(offline.status == "pass" && offline.message.contains("not contacted (--offline)"), "\(offline)")

        let other = FleetHost("host-o", url: db.adminURL)
        #expect(other.box.run(["vault", "init"]).status == 0)  // a vault of its own, outside the fleet
        let foreign = try sharedCheck(other)
        #expect(foreign.status == "fail" && foreign.message.contains("is another vault"), "\(foreign)")

        db.server.stop()
        defer { try? db.server.start() }
        let down = try sharedCheck(a)
        #expect(down.status == "fail" && down.message.contains("cannot reach the shared vault"), "\(down)")
    }

    @Test("a host can take the fleet's key as the systemd credential tokenrun-vault-key")
    func keyAsSystemdCredential() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        #expect(a.run(["vault", "init"]).status == 0)
        let b = FleetHost("host-b", url: db.adminURL)
        let credentials = b.box.root + "/credentials"
        b.box.write(path: credentials + "/tokenrun-vault-key", bytes: try #require(readBytes(a.box.keyPath)), mode: 0o400)
        let joined = b.run(["vault", "init"], environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(joined.status == 0 && joined.stdout.contains("created this host's copy"), "\(joined.all)")
        #expect(!FileManagerLike.exists(b.box.keyPath), "the key was written to a file")
        #expect(b.run(["vault", "status"], environment: ["CREDENTIALS_DIRECTORY": credentials]).status == 0)
    }

    @Test("a wrong password or a database that is down: named, redacted, with the exit status that fits")
    func failures() throws {
        let a = FleetHost("host-a", url: db.url(user: TestPostgres.admin, password: "not-the-password-42"))
        let refused = a.run(["vault", "init"])
        #expect(refused.status == 78, "\(refused.all)")
        #expect(refused.stderr.contains("password authentication failed"), "\(refused.all)")
        #expect(refused.stderr.contains("postgresql://***@127.0.0.1:\(db.port)/\(db.name)"), "\(refused.all)")
        #expect(!refused.all.contains("not-the-password-42"))
        #expect(!FileManagerLike.exists(a.box.vaultPath))

        a.url = db.adminURL
        #expect(a.run(["vault", "init"]).status == 0)
        db.server.stop()
        let down = a.run(["vault", "push"])
        #expect(down.status == 75, "\(down.all)")
        #expect(down.stderr.contains("cannot reach the shared vault postgresql://***@127.0.0.1:\(db.port)/\(db.name)"), "\(down.all)")
        #expect(!down.all.contains(TestPostgres.adminPassword))
        let status = a.run(["vault", "status"])
        #expect(status.stdout.contains("cannot use it: cannot reach the shared vault"), "\(status.all)")
        // An import while it is down is kept on this host, and said so; vault push --replace sends it later.
        let e = try EndToEnd()
        a.box.writeProfile("demo", try #require(e.box.read(e.box.profileDir + "/demo.toml")))
        let seed = try e.provider.seed()
        let imported = a.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token + "\n")
        #expect(imported.status == 75, "\(imported.all)")
        #expect(imported.stderr.contains("stored on this host only: the shared vault postgresql://***@"), "\(imported.all)")
        #expect(a.box.read(a.box.vaultPath)?.contains("\ndemo ") == true, "the import was not kept on this host")
        #expect(FileManagerLike.exists(a.box.vaultPath + ".fleet-pending"))
        try db.server.start()
        // The next refresh sends this host's record first (not the row's older one), then refreshes the imported grant.
        let launched = a.box.run(["-p", "demo", "--", e.python, e.child, "--url", e.provider.url], environment: a.environment)
        #expect(launched.status == 0, "\(launched.all)")
        #expect(try e.provider.stats().reuse_events == 0)
        let line = try #require(a.box.read(a.box.vaultPath)?.split(separator: "\n").first { $0.hasPrefix("demo ") })
        #expect(try db.admin("SELECT sealed FROM tokenrun_records WHERE profile = 'demo'").hasPrefix(String(line.split(separator: " ")[1])))
        #expect(!FileManagerLike.exists(a.box.vaultPath + ".fleet-pending"))

        let notPostgres = a.run(["vault", "status"], environment: ["TOKENRUN_VAULT_URL": "mysql://u:pw-9@db/x"])
        #expect(notPostgres.status == 78 && notPostgres.stderr.contains("is not a PostgreSQL URL"), "\(notPostgres.all)")
        #expect(!notPostgres.all.contains("pw-9"))
    }

    @Test("[vault] url in config.toml names the shared vault; TOKENRUN_VAULT_URL comes first, and empty means none")
    func configFile() throws {
        let a = FleetHost("host-a", url: db.adminURL)
        a.box.write("config/tokenrun/config.toml", "[vault]\nurl = \"\(db.adminURL)\"\n")
        let fromConfig = a.box.run(["vault", "init"])
        #expect(fromConfig.status == 0 && fromConfig.stdout.contains("created the shared vault's tables"), "\(fromConfig.all)")
        let none = a.box.run(["vault", "status"], environment: ["TOKENRUN_VAULT_URL": ""])
        #expect(none.status == 0 && !none.stdout.contains("shared:"), "\(none.all)")
        a.box.write("config/tokenrun/config.toml", "[vault]\nurls = \"x\"\n")
        let typo = a.box.run(["vault", "status"])
        #expect(typo.status == 78 && typo.stderr.contains("unknown key \"vault.urls\""), "\(typo.all)")

        // A launch that must refresh, with a config.toml that names a shared vault but cannot be
        // used: it stops (78) rather than refresh alone, and sends no request.
        let e = try EndToEnd()
        try e.login()
        e.box.write("config/tokenrun/config.toml", "[vault]\nurl = \"\(db.adminURL)\"\n[network]\nproxxy = \"x\"\n")
        let before = try e.provider.stats()
        let alone = e.box.run(["-p", "demo", "--", e.python, e.child, "--url", e.provider.url])
        #expect(alone.status == 78, "\(alone.all)")
        #expect(try e.provider.stats().token_requests == before.token_requests)
        // Without a [vault] table, a broken config.toml is not obeyed, and the refresh goes on (as before).
        e.box.write("config/tokenrun/config.toml", "[network]\nproxxy = \"x\"\n")
        #expect(e.box.run(["-p", "demo", "--", e.python, e.child, "--url", e.provider.url]).status == 0)
    }
}

enum FileManagerLike {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}

func fileOwner(_ path: String) -> uid_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_uid : nil
}
