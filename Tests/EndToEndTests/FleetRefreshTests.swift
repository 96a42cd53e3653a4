// Fleet mode's refreshes: hosts (separate homes sharing the fleet's key file)
// launch a real child against the provider with one rotating grant in a real
// PostgreSQL shared vault, as the least-privileged role the README grants.
// Single flight across hosts rests on the database lease; the warm path must
// not touch the database at all.
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension FleetTests {
    /// Nested in FleetTests, whose .serialized covers it: both stop and start the one server.
    @Suite("end to end: fleet refreshes (PostgreSQL)")
    struct Refreshes {
        let db: TestDatabase
        let e: EndToEnd

        init() throws {
            db = try TestPostgres.shared().makeDatabase()
            e = try EndToEnd()
        }

        /// `count` hosts sharing the demo grant (its access token already expired): the first
        /// logged in and set the shared vault up as the admin; every host then uses the fleet's role.
        func fleet(_ count: Int, accessExpiresIn: Int = 0) throws -> [FleetHost] {
            try e.login(accessExpiresIn: accessExpiresIn)
            let first = FleetHost("host-1", url: db.adminURL, box: e.box)
            let made = first.run(["vault", "init"])
            try #require(made.status == 0, "\(made.all)")
            try #require(first.run(["vault", "push"]).status == 0)
            try db.grantFleetRole()
            first.url = db.url()
            let profile = try #require(e.box.read(e.box.profileDir + "/demo.toml"))
            var hosts = [first]
            for n in 2...max(2, count) where n <= count {
                let host = FleetHost("host-\(n)", url: db.url())
                host.box.writeProfile("demo", profile)
                host.copyKey(from: first)
                let joined = host.run(["vault", "init"])
                try #require(joined.status == 0 && joined.stdout.contains("copied 1 credential"), "\(joined.all)")
                hosts.append(host)
            }
            return hosts
        }

        func launchArguments() -> [String] { ["-p", "demo", "--", e.python, e.child, "--url", e.provider.url] }

        @Test("50 launches across 5 hosts on an expired rotating token: all succeed, one refresh request, no reuse, one log row")
        func fiftyLaunchesFiveHosts() throws {
            let hosts = try fleet(5)
            let before = try e.provider.stats()
            var running: [(FleetHost, RunningProcess)] = []
            for _ in 0..<10 {
                for host in hosts {
                    running.append((host, host.box.start(launchArguments(), environment: host.environment)))
                }
            }
            for (host, process) in running {
                let result = process.wait()
                #expect(result.status == 0, "\(host.name): \(result.all)")
            }
            let after = try e.provider.stats()
            #expect(after.refresh_requests - before.refresh_requests == 1)
            #expect(after.reuse_events == before.reuse_events)
            #expect(after.api_ok - before.api_ok == 50)
            let log = try db.admin("SELECT host || ' ' || outcome || ' ' || rotated FROM tokenrun_refreshes")
            let rows = log.split(separator: "\n")
            #expect(rows.count == 1, "\(log)")
            #expect(rows.first?.hasSuffix(" refreshed true") == true, "\(log)")
            #expect(try db.admin("SELECT version FROM tokenrun_records WHERE profile = 'demo'").hasPrefix("2"))

            // Who refreshed: status on every host names it; log --fleet lists it.
            let refresher = String(rows[0].split(separator: " ")[0])
            for host in hosts {
                let status = host.run(["status"])
                #expect(status.stdout.contains("last refreshed by \(refresher) at "), "\(host.name): \(status.all)")
            }
            let fleetLog = hosts[2].run(["log", "--fleet"])
            #expect(fleetLog.status == 0 && fleetLog.stdout.contains(refresher) && fleetLog.stdout.contains("refreshed"), "\(fleetLog.all)")
            let json = hosts[3].run(["log", "--fleet", "--json"])
            #expect(json.stdout.contains(#""rotated":true"#) && json.stdout.contains(#""host":"\#(refresher)""#), "\(json.all)")
        }

        @Test("a warm launch makes no database round trip: none while it is up, no warning while it is down")
        func warmPathNeedsNoDatabase() throws {
            let hosts = try fleet(2)
            for host in hosts {  // each host's first launch brings its copy up to date (host-1 refreshes)
                try #require(host.box.run(launchArguments(), environment: host.environment).status == 0)
            }
            let connections = db.connections
            for host in hosts {
                for _ in 0..<3 {
                    let result = host.box.run(launchArguments(), environment: host.environment)
                    #expect(result.status == 0 && result.stderr.isEmpty, "\(result.all)")
                }
            }
            #expect(db.connections == connections, "warm launches connected to the database")
            db.server.stop()
            defer { try? db.server.start() }
            let down = hosts[1].box.run(launchArguments(), environment: hosts[1].environment)
            #expect(down.status == 0 && down.stderr.isEmpty, "\(down.all)")
        }

        @Test(
            "the database down: a still-valid token is used with one warning; an expired one fails 75 naming the database, with no token request"
        )
        func databaseDown() throws {
            let hosts = try fleet(2)
            // host-1 refreshes while the database is up: its copy's token is good for 100 s, host-2's is still expired.
            try e.provider.config(#"{"access_token_lifetime": 100}"#)
            let fresh = hosts[0].box.run(launchArguments(), environment: hosts[0].environment)
            try #require(fresh.status == 0, "\(fresh.all)")
            sleep(2)  // so that --min-ttl 100s asks for more than is left, and no more than the provider gives
            db.server.stop()
            defer { try? db.server.start() }
            let before = try e.provider.stats()
            // Inside the window (--min-ttl asks for more than is left) but still valid.
            let stale = hosts[0].box.run(["--min-ttl", "100s"] + launchArguments(), environment: hosts[0].environment)
            #expect(stale.status == 0, "\(stale.all)")
            let warnings = stale.stderr.split(separator: "\n").filter { $0.contains("warning") && $0.contains("shared vault") }
            #expect(warnings.count == 1, "\(stale.stderr)")
            #expect(
                stale.stderr.contains("the shared vault postgresql://***@127.0.0.1:\(db.port)/\(db.name) cannot be reached"),
                "\(stale.stderr)")
            #expect(!stale.all.contains(TestPostgres.fleetPassword))

            // Expired: no token to fall back on, and no request to the provider without the lease.
            let expired = hosts[1].box.run(launchArguments(), environment: hosts[1].environment)
            #expect(expired.status == 75, "\(expired.all)")
            #expect(
                expired.stderr.contains("cannot reach the shared vault postgresql://***@127.0.0.1:\(db.port)/\(db.name)"),
                "\(expired.stderr)")
            #expect(!expired.all.contains(TestPostgres.fleetPassword))
            let after = try e.provider.stats()
            #expect(after.token_requests == before.token_requests, "a token request went out without the lease")
        }

        @Test("a host SIGKILLed mid-refresh: its lease dies with it, another host refreshes, nothing is lost")
        func hostKilledMidRefresh() throws {
            let hosts = try fleet(2)
            let before = try e.provider.stats()
            try e.provider.fault(#"{"kind":"hang","count":1}"#)
            let stuck = hosts[0].box.start(launchArguments(), environment: hosts[0].environment)
            // Wait until its token request reached the provider (it now hangs there, holding the lease).
            var waited = 0
            while try e.provider.stats().token_requests == before.token_requests && waited < 200 {
                usleep(50_000)
                waited += 1
            }
            try #require(waited < 200, "the first host's request never reached the provider")
            // While host-1 holds the lease, host-2 waits for it: no request of its own.
            let second = hosts[1].box.start(launchArguments(), environment: hosts[1].environment)
            usleep(1_500_000)
            #expect(second.poll() == nil, "host-2 did not wait for host-1's lease")
            #expect(try e.provider.stats().token_requests == before.token_requests + 1)
            stuck.signal(SIGKILL)
            _ = stuck.wait()
            let done = second.wait()
            #expect(done.status == 0, "\(done.all)")
            let again = hosts[0].box.run(launchArguments(), environment: hosts[0].environment)
            #expect(again.status == 0, "\(again.all)")
            let after = try e.provider.stats()
            #expect(after.refresh_success - before.refresh_success == 1)
            #expect(after.reuse_events == before.reuse_events)
            let log = try db.admin("SELECT host FROM tokenrun_refreshes")
            #expect(log.split(separator: "\n") == ["host-2"], "\(log)")
        }

        @Test("a fleet host's job without the URL (cron) never refreshes alone: 78 with the fix, no request; a fresh token still launches")
        func jobWithoutTheURL() throws {
            let hosts = try fleet(2)
            #expect(FileManagerLike.exists(hosts[1].box.vaultPath + ".shared"))
            let before = try e.provider.stats()
            let cron = hosts[1].box.run(launchArguments())  // no TOKENRUN_VAULT_URL
            #expect(cron.status == 78, "\(cron.all)")
            #expect(
                cron.stderr.contains("is a copy of the shared vault postgresql://***@127.0.0.1:\(db.port)/\(db.name)"), "\(cron.stderr)")
            #expect(cron.stderr.contains("hint: give this job the fleet's URL too"), "\(cron.stderr)")
            #expect(try e.provider.stats().token_requests == before.token_requests)
            let doctor = hosts[1].box.run(["doctor", "--offline"])
            #expect(doctor.stdout.contains("vault.shared") && doctor.stdout.contains("is a copy of the shared vault"), "\(doctor.all)")
            // With the URL it refreshes; then, its token fresh, the same job launches without it.
            #expect(hosts[1].box.run(launchArguments(), environment: hosts[1].environment).status == 0)
            let warm = hosts[1].box.run(launchArguments())
            #expect(warm.status == 0 && warm.stderr.isEmpty, "\(warm.all)")
        }

        @Test("a pending note the row has moved on from is dropped: the newer row wins, nothing is sent")
        func stalePendingNote() throws {
            let hosts = try fleet(2)
            #expect(hosts[0].box.run(launchArguments(), environment: hosts[0].environment).status == 0)  // the row is now version 2
            let line = try #require(hosts[1].box.read(hosts[1].box.vaultPath)?.split(separator: "\n").first { $0.hasPrefix("demo ") })
            let mine = String(line.split(separator: " ")[1])
            hosts[1].box.write(path: hosts[1].box.vaultPath + ".fleet-pending", bytes: Array("demo\t\(mine)\t1\n".utf8))
            let before = try e.provider.stats()
            let result = hosts[1].box.run(launchArguments(), environment: hosts[1].environment)
            #expect(result.status == 0, "\(result.all)")
            #expect(try e.provider.stats().refresh_requests == before.refresh_requests, "host-2 refreshed instead of taking the newer row")
            #expect(try db.admin("SELECT version FROM tokenrun_records WHERE profile = 'demo'").hasPrefix("2"))
            #expect(!FileManagerLike.exists(hosts[1].box.vaultPath + ".fleet-pending"))
        }

        @Test("a row someone altered in the database is refused: 78 naming the shared vault, the host's copy untouched, no token request")
        func alteredRowIsRefused() throws {
            let hosts = try fleet(2)
            // Another sealed record's MAC: well-formed, but not this vault's MAC of this record.
            try db.admin("UPDATE tokenrun_records SET mac = translate(mac, 'ABCDEFGHabcdefgh', 'BCDEFGHAbcdefgha')")
            let before = try e.provider.stats()
            let copy = hosts[1].box.read(hosts[1].box.vaultPath)
            let result = hosts[1].box.run(launchArguments(), environment: hosts[1].environment)
            #expect(result.status == 78, "\(result.all)")
            #expect(
                result.stderr.contains(
                    "the shared vault postgresql://***@127.0.0.1:\(db.port)/\(db.name) holds what this vault did not seal"),
                "\(result.stderr)")
            #expect(hosts[1].box.read(hosts[1].box.vaultPath) == copy, "the host's copy was written")
            #expect(try e.provider.stats().token_requests == before.token_requests)
        }

        @Test("the child never sees the shared vault's URL or its password, nor does --verbose or the audit trail show it")
        func childNeverSeesTheURL() throws {
            let hosts = try fleet(2)
            let result = hosts[1].box.run(["--verbose", "-p", "demo", "--", "/usr/bin/env"], environment: hosts[1].environment)
            #expect(result.status == 0, "\(result.all)")
            #expect(!result.stdout.contains("TOKENRUN_VAULT_URL"))
            #expect(!result.all.contains(TestPostgres.fleetPassword), "in the child's environment or --verbose")
            #expect(result.stderr.contains("tokenrun: verbose: "), "\(result.stderr)")
            #expect(!result.stdout.contains("postgresql://"))
            #expect(result.stdout.contains("TOKEN="))
            let audit = try #require(hosts[1].box.read(hosts[1].box.auditPath))
            #expect(!audit.contains(TestPostgres.fleetPassword))
        }
    }
}
