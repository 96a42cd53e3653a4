// `tokenrun git-credential` with a real git, against a loopback git
// smart-HTTP server (Tests/Provider/git_server.py) that accepts only access
// tokens the test provider vouches for.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: git credential helper")
struct GitCredentialTests {
    final class GitSetup: @unchecked Sendable {
        let e: EndToEnd
        let server: RunningProcess
        let url: String

        /// With `tls`, the demo profile's token endpoint is the provider's https one.
        init(tls: TestCA.Leaf? = nil) throws {
            e = try EndToEnd(tls: tls)
            let root = e.box.root
            let made = e.box.run(
                [
                    "-c",
                    """
                    set -e
                    git init -q --bare \(root)/git/repo.git
                    git --git-dir=\(root)/git/repo.git symbolic-ref HEAD refs/heads/main
                    git init -q \(root)/work && cd \(root)/work
                    echo "hello from the test server" > README
                    git add README && git -c user.name=t -c user.email=t@example.com commit -qm init
                    git push -q \(root)/git/repo.git HEAD:refs/heads/main
                    """,
                ], program: "/bin/sh")
            precondition(made.status == 0, made.all)
            server = e.box.start(
                [TestProvider.repository + "/Tests/Provider/git_server.py", "--root", root + "/git", "--provider", e.provider.url],
                program: TestProvider.python)
            var found: String?
            for _ in 0..<200 where found == nil {
                found = server.stdoutSoFar.split(separator: "\n").first { $0.hasPrefix("READY ") }.map { String($0.dropFirst(6)) }
                if found == nil { usleep(50_000) }
            }
            url = try #require(found, "git server did not start")
        }

        deinit {
            server.signal(SIGTERM)
            _ = server.wait()
        }

        /// `git clone` through the helper (`environment` added to git's, and so to tokenrun's); returns git's result.
        func clone(into name: String, environment: [String: String] = [:]) -> CLIResult {
            e.box.run(
                [
                    "-c",
                    "git -c credential.helper= -c 'credential.helper=!\(CLISandbox.binary) git-credential -p demo' clone -q \(url)/repo.git \(e.box.root)/\(name) && cat \(e.box.root)/\(name)/README",
                ], environment: environment.merging(["GIT_TERMINAL_PROMPT": "0"]) { $1 }, program: "/bin/sh")
        }

        var stats: String { LoopbackHTTP.request("GET", url + "/test/stats")?.body ?? "" }
    }

    @Test("git clones through the helper: the server's 401 makes git ask tokenrun, which answers with a fresh token")
    func cloneThroughHelper() throws {
        let g = try GitSetup()
        let seed = try g.e.login()
        let result = g.clone(into: "clone")
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("hello from the test server"))
        #expect(g.stats.contains("\"rejected\": 1"), "\(g.stats)")
        #expect(!g.stats.contains("\"authorized\": 0"))
        #expect(!result.all.contains(seed.refresh_token))
        #expect(g.e.audit.contains("git-credential 127.0.0.1"))
    }

    @Test("a token the server rejects is erased by git through the helper, and the next clone refreshes and succeeds")
    func eraseThenRefresh() throws {
        let g = try GitSetup()
        try g.e.login()
        let token = g.e.box.run(["get", "-p", "demo"]).stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(!token.isEmpty)
        // Kill just that access token at the provider (RFC 7009); the refresh token lives on.
        let revoked = g.e.box.run(
            [
                "-c",
                "curl -sf -u tokenrun-test:test-secret -d token=\(token) -d token_type_hint=access_token \(g.e.provider.url)/oauth/revoke",
            ], program: "/bin/sh")
        #expect(revoked.status == 0, "\(revoked.all)")
        let failed = g.clone(into: "first")
        #expect(failed.status != 0)
        #expect(g.e.audit.contains("\"event\":\"git_credential_erase\""))
        let again = g.clone(into: "second")
        #expect(again.status == 0, "\(again.all)")
        let fresh = g.e.box.run(["get", "-p", "demo"]).stdout
        #expect(!fresh.contains(token))
    }

    @Test("the protocol: get answers username and password lines; store does nothing; unknown input keys are ignored")
    func protocolShape() throws {
        let e = try EndToEnd()
        try e.login()
        let get = e.box.run(["git-credential", "-p", "demo", "get"], stdin: "protocol=https\nhost=example.com\nweird[]=1\n\n")
        #expect(get.status == 0, "\(get.all)")
        let lines = get.stdout.split(separator: "\n")
        #expect(lines.first == "username=alice@example.com")
        #expect(lines.dropFirst().first?.hasPrefix("password=") == true)
        #expect(lines.contains { $0.hasPrefix("password_expiry_utc=") })
        let asked = e.box.run(["git-credential", "-p", "demo", "get"], stdin: "host=example.com\nusername=x-access-token\n")
        #expect(asked.stdout.hasPrefix("username=x-access-token\n"))
        let store = e.box.run(["git-credential", "-p", "demo", "store"], stdin: "host=example.com\npassword=whatever\n\n")
        #expect(store.status == 0)
        #expect(store.stdout.isEmpty)
    }
}
