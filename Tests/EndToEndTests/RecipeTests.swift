// The cron and systemd recipes of docs/recipes.md: the crontab line is read from the page and run as
// written there, with the sandbox's binary, profile and child in place of the example's.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: the cron and systemd recipes of docs/recipes.md")
struct RecipeTests {
    /// Runs `line` with only what cron gives a job: HOME, PATH, SHELL (plus the sandbox's XDG paths).
    func cron(_ e: EndToEnd, _ line: String) -> CLIResult {
        let env = e.box.environment
        let vars = ["HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"].map { "\($0)=\(env[$0]!)" }
        return e.box.run(["-i"] + vars + ["PATH=/usr/bin:/bin", "SHELL=/bin/sh", "/bin/sh", "-c", line], program: "/usr/bin/env")
    }

    static let page = readText(TestProvider.repository + "/docs/recipes.md") ?? ""

    /// The page's crontab line without its schedule: `gmail` becomes the sandbox's `demo`, the job the test child,
    /// and the mail a line in `mailLog`.
    func crontabCommand(_ e: EndToEnd, mailLog: String) throws -> String {
        let entry = try #require(
            Self.page.split(separator: "\n").first { $0.hasPrefix("    */15 * * * * tokenrun -p gmail --min-ttl ") },
            "docs/recipes.md shows no crontab line")
        let command = String(entry.dropFirst("    */15 * * * * tokenrun".count))
            .replacing("gmail", with: "demo")
            .replacing("/home/me/bin/sync.sh", with: "\(e.python) \(e.child) --url \(e.provider.url)")
            .replacing("| mail -s tokenrun me", with: ">> \(mailLog)")
        return CLISandbox.binary + command
    }

    @Test("the crontab line: 0 when the job ran, 75 when the provider is down, 77 (and the mail hook) when the grant is dead")
    func cronLine() throws {
        let e = try EndToEnd()
        try e.login()
        let mailLog = e.box.root + "/mail.log"
        let line = try crontabCommand(e, mailLog: mailLog)
        #expect(line.contains(" -p demo --min-ttl 10m -- ") && line.hasSuffix("exit $s"), "\(line)")
        #expect(cron(e, line).status == 0)
        try e.provider.revokeUser("alice")
        try e.provider.config(#"{"access_token_lifetime": 1}"#)
        let dead = cron(e, line.replacing("--min-ttl 10m", with: "--refresh"))
        #expect(dead.status == 77, "\(dead.all)")
        #expect(e.box.read(mailLog) == "demo needs: tokenrun login -p demo\n")
        try e.login()
        #expect(cron(e, line).status == 0)
        e.provider.stop()
        let down = cron(e, line.replacing("--min-ttl 10m", with: "--refresh"))
        #expect(down.status == 75, "\(down.all)")
    }

    @Test("the systemd unit: LoadCredential=tokenrun-vault-key unlocks the vault, and CREDENTIALS_DIRECTORY never reaches the command")
    func systemdKeyCredential() throws {
        let e = try EndToEnd()
        try e.login()
        // What systemd does for the page's LoadCredential=tokenrun-vault-key:/etc/tokenrun/vault.key.
        #expect(Self.page.contains("\n    LoadCredential=tokenrun-vault-key:/etc/tokenrun/vault.key\n"))
        let credentials = e.box.root + "/credentials"
        mkdir(credentials, 0o700)
        #expect(rename(e.box.keyPath, credentials + "/tokenrun-vault-key") == 0)
        let result = e.box.run(
            ["-p", "demo", "--", "/bin/sh", "-c", "env | grep -c CREDENTIALS_DIRECTORY; test -n \"$TOKEN\""],
            environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout == "0\n")
        // Without the credential the vault stays shut.
        #expect(e.box.run(["get", "-p", "demo"]).status == 78)
    }
}
