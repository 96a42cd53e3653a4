import Testing
@testable import TokenrunProfiles
@testable import TokenrunRefresh
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("the on_reauth_required hook")
struct ReauthHookTests {
    let dir = TemporaryDirectory()

    static let base = [
        "PATH": "/usr/bin:/bin", "HOME": "/home/me", "TOKENRUN_KEY_FILE": "/secret/vault.key", "TOKENRUN_PASSPHRASE": "hunter2",
        "TOKENRUN_PASSPHRASE_FILE": "/secret/pass", "CREDENTIALS_DIRECTORY": "/run/credentials/x.service", "LANG": "C.UTF-8",
    ]

    /// What the hook wrote to `name`, as text.
    func output(_ name: String) -> String? {
        dir.read(name).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("the hook's environment has no key-source variable and says which profile, why, and how to recover")
    func environment() {
        let environment = ReauthHook.environment(base: Self.base, profile: "gmail", reason: "invalid_grant: Token has been revoked.")
        for variable in KeyVariables.names {
            #expect(environment[variable] == nil, "\(variable)")
        }
        #expect(environment["TOKENRUN_PROFILE"] == "gmail")
        #expect(environment["TOKENRUN_REAUTH_REASON"] == "invalid_grant: Token has been revoked.")
        #expect(environment["TOKENRUN_REAUTH_COMMAND"] == "tokenrun login -p gmail")
        #expect(environment["PATH"] == "/usr/bin:/bin")
        #expect(environment["HOME"] == "/home/me")
        #expect(environment["LANG"] == "C.UTF-8")
        #expect(!environment.values.contains("hunter2"))
    }

    @Test("an inherited TOKENRUN_PROFILE is replaced by the profile that needs a login")
    func profileReplaced() {
        let environment = ReauthHook.environment(base: ["TOKENRUN_PROFILE": "outer"], profile: "inner", reason: "r")
        #expect(environment["TOKENRUN_PROFILE"] == "inner")
    }

    @Test("the command runs through /bin/sh with that environment, and its exit status comes back")
    func runs() throws {
        let out = dir.file("hook.out")
        let environment = ReauthHook.environment(base: Self.base, profile: "gmail", reason: "the refresh token was revoked")
        let command =
            #"printf '%s|%s|%s|%s|%s\n' "$TOKENRUN_PROFILE" "$TOKENRUN_REAUTH_REASON" "$TOKENRUN_REAUTH_COMMAND" "#
            + #""${TOKENRUN_KEY_FILE-unset}" "${CREDENTIALS_DIRECTORY-unset}" > "# + "'\(out)'; exit 3"
        let outcome = ReauthHook.run(command, environment: environment)
        #expect(outcome == .exited(3))
        #expect(output("hook.out") == "gmail|the refresh token was revoked|tokenrun login -p gmail|unset|unset\n")
    }

    @Test("a hook that succeeds exits 0")
    func success() {
        #expect(ReauthHook.run("true", environment: ["PATH": "/usr/bin:/bin"]) == .exited(0))
    }

    @Test("shell syntax works: pipes, quotes and variables")
    func shell() throws {
        let out = dir.file("piped")
        let outcome = ReauthHook.run(
            "echo \"$TOKENRUN_PROFILE needs you\" | tr a-z A-Z > '\(out)'",
            environment: ["PATH": "/usr/bin:/bin", "TOKENRUN_PROFILE": "acme"])
        #expect(outcome == .exited(0))
        #expect(output("piped") == "ACME NEEDS YOU\n")
    }

    @Test("a hook killed by a signal reports the signal")
    func signaled() {
        #expect(ReauthHook.run("kill -TERM $$", environment: ["PATH": "/usr/bin:/bin"]) == .signaled(SIGTERM))
        #expect(ReauthHook.run("kill -KILL $$", environment: ["PATH": "/usr/bin:/bin"]) == .signaled(SIGKILL))
    }

    @Test("the hook reads nothing from tokenrun's stdin (it gets /dev/null)")
    func stdinIsNull() throws {
        let out = dir.file("stdin")
        #expect(ReauthHook.run("wc -c > '\(out)'", environment: ["PATH": "/usr/bin:/bin"]) == .exited(0))
        #expect(output("stdin")?.trimmingPrefix(while: { $0 == " " }) == "0\n")
    }

    // MARK: which command

    @Test("the profile's own command wins over the global configuration's")
    func profileCommandWins() throws {
        try dir.write("config/tokenrun/config.toml", "on_reauth_required = \"global-hook\"\n")
        let paths = Paths(environment: dir.environment)
        let own = Profile.make(onReauthRequired: "profile-hook")
        #expect(try ReauthHook.command(for: own, paths: paths) == "profile-hook")
        #expect(try ReauthHook.command(for: Profile.make(), paths: paths) == "global-hook")
    }

    @Test("no command anywhere: nil; the global configuration is not needed when the profile has one")
    func noCommand() throws {
        let paths = Paths(environment: dir.environment)
        #expect(try ReauthHook.command(for: Profile.make(), paths: paths) == nil)
        try dir.write("config/tokenrun/config.toml", "not valid = = toml\n")
        #expect(try ReauthHook.command(for: Profile.make(onReauthRequired: "profile-hook"), paths: paths) == "profile-hook")
        #expect(throws: TokenrunError.self) { try ReauthHook.command(for: Profile.make(), paths: paths) }
    }
}
