// Profiles decide where a stored refresh token is sent, so they are trusted as
// ssh trusts its config: relative TOKENRUN_PROFILE_PATH entries are not
// searched, and a file or directory that others can write is refused.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: which profile files are trusted")
struct ProfileTrustTests {
    /// A profile "demo" that would send the refresh token to `endpoint`.
    static func hostileProfile(_ endpoint: String) -> String {
        """
        [oauth]
        token_endpoint = "\(endpoint)"
        client_id = "tokenrun-test"
        client_secret = "test-secret"
        scopes = ["api.read", "offline_access"]
        [env]
        TOKEN = "{{access_token}}"
        """
    }

    @Test(
        "a profile of the same name in a relative TOKENRUN_PROFILE_PATH entry is not used, a warning names the entry, and its endpoint gets no request"
    )
    func relativeEntrySkipped() throws {
        let e = try EndToEnd()
        try e.login()
        let hostile = try TestProvider(in: e.box)
        e.box.write("repo/prof/demo.toml", Self.hostileProfile(hostile.tokenEndpoint))
        // As if the user ran `tokenrun get -p demo` inside a cloned repository.
        let result = e.box.run(
            ["-c", "cd '\(e.box.root)/repo' && exec '\(CLISandbox.binary)' get -p demo"], environment: ["TOKENRUN_PROFILE_PATH": "prof"],
            program: "/bin/sh")
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stderr.contains("tokenrun: warning: TOKENRUN_PROFILE_PATH entry \"prof\" is relative, so it is not searched"))
        #expect(try hostile.stats().token_requests == 0)
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("a profile file of mode 0666 exits 78 naming the file, its mode and owner, and the chmod that fixes it")
    func worldWritableFile() throws {
        let e = try EndToEnd()
        try e.login()
        let path = e.box.profileDir + "/demo.toml"
        chmod(path, 0o666)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(
            result.stderr.contains("tokenrun: error: the profile \(path) is writable by other users (mode 0666, owner uid \(geteuid()))"))
        #expect(result.stderr.contains("tokenrun: hint: chmod go-w \(path)"))
        #expect(try e.provider.stats().token_requests == 0)
        chmod(path, 0o644)
        #expect(e.launch().status == 0)
    }

    @Test("a profile in a group-writable TOKENRUN_PROFILE_PATH directory exits 78 naming the directory and its mode")
    func groupWritableDirectory() throws {
        let e = try EndToEnd()
        try e.login()
        let shared = e.box.root + "/shared"
        e.box.write("shared/demo.toml", Self.hostileProfile(e.provider.tokenEndpoint))
        chmod(shared, 0o775)
        let result = e.launch(environment: ["TOKENRUN_PROFILE_PATH": shared])
        #expect(result.status == 78, "\(result.all)")
        #expect(
            result.stderr.contains(
                "the profile \(shared)/demo.toml is in the directory \(shared), which is writable by other users (mode 0775"))
        #expect(result.stderr.contains("tokenrun: hint: chmod go-w \(shared)"))
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("a world-writable profile that another extends is refused along the chain, naming the parent")
    func worldWritableParent() throws {
        let e = try EndToEnd()
        try e.login()
        let shared = e.box.root + "/shared"
        e.box.write("shared/base.toml", Self.hostileProfile(e.provider.tokenEndpoint), mode: 0o646)
        e.box.writeProfile("demo", "extends = \"base\"\n")
        let result = e.launch(environment: ["TOKENRUN_PROFILE_PATH": shared])
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("the profile \(shared)/base.toml is writable by other users (mode 0646"))
        #expect(result.stderr.contains("tokenrun: hint: chmod go-w \(shared)/base.toml"))
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("a config.toml others can write is not obeyed: its hook does not run, the audit trail and doctor say why")
    func unsafeGlobalConfig() throws {
        let e = try EndToEnd()
        let marker = e.box.root + "/hook-ran"
        let config = e.box.root + "/config/tokenrun/config.toml"
        e.box.write("config/tokenrun/config.toml", "on_reauth_required = 'touch \(marker)'\n", mode: 0o666)
        try e.login()
        try e.provider.revokeUser("alice")
        let result = e.launch()
        #expect(result.status == 77, "\(result.all)")
        #expect(access(marker, F_OK) != 0, "the hook of an unsafe config.toml ran")
        #expect(e.audit.contains("the configuration file \(config) is writable by other users (mode 0666"))
        let doctor = e.box.run(["doctor", "--offline"])
        #expect(doctor.status == 1, "\(doctor.all)")
        #expect(doctor.stdout.contains("config.valid"))
        #expect(doctor.stdout.contains("mode 0666"))
        #expect(doctor.stdout.contains("fix: chmod go-w \(config)"))
    }

    @Test("profiles list, profiles validate and doctor name a refused profile file and the chmod")
    func refusedFileReported() throws {
        let e = try EndToEnd()
        let path = e.box.profileDir + "/demo.toml"
        chmod(path, 0o666)
        let list = e.box.run(["profiles", "list"])
        #expect(list.status == 0, "\(list.all)")
        #expect(list.stdout.contains("INVALID: the profile \(path) is writable by other users (mode 0666"))
        let validate = e.box.run(["profiles", "validate"])
        #expect(validate.status == 78, "\(validate.all)")
        #expect(validate.stderr.contains("tokenrun: hint: chmod go-w \(path)"))
        let doctor = e.box.run(["doctor", "--offline"])
        #expect(doctor.status == 1, "\(doctor.all)")
        #expect(doctor.stdout.contains("fail  profiles.valid"))
        #expect(doctor.stdout.contains("fix: chmod go-w \(path)"))
    }

    @Test("doctor warns about a relative TOKENRUN_PROFILE_PATH entry")
    func doctorNamesRelativeEntry() throws {
        let e = try EndToEnd()
        let doctor = e.box.run(["doctor", "--offline"], environment: ["TOKENRUN_PROFILE_PATH": "prof"])
        #expect(doctor.stdout.contains("warn  profiles.path"), "\(doctor.all)")
        #expect(doctor.stdout.contains("\"prof\" is relative"))
    }
}
