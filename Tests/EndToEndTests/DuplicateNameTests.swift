// Names that would collide at launch are refused before anything runs: a
// profile given twice, and two [[file]] tables that would write one file.
import TestSupport
import Testing

@Suite("end to end: duplicate names")
struct DuplicateNameTests {
    @Test("a profile named twice with -p is a usage error (64) naming it, and nothing is launched", arguments: [["run"], []])
    func repeatedProfile(_ subcommand: [String]) throws {
        let e = try EndToEnd(extra: "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"")
        try e.login()
        let result = e.box.run(subcommand + ["-p", "demo", "-p", "demo", "--", e.python, e.child, "--url", e.provider.url])
        #expect(result.status == 64, "\(result.all)")
        #expect(result.stderr.contains("profile demo is named twice (-p demo -p demo)"))
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("status and doctor refuse a profile named twice too")
    func repeatedProfileElsewhere() throws {
        let e = try EndToEnd()
        for command in [["status"], ["doctor", "--offline"]] {
            let result = e.box.run(command + ["-p", "demo", "-p", "demo"])
            #expect(result.status == 64, "\(command): \(result.all)")
            #expect(result.stderr.contains("profile demo is named twice"))
        }
    }

    @Test("two [[file]] tables with the same file name are a profile error (78) naming the file and line")
    func sameFileName() throws {
        let e = try EndToEnd()
        try e.login()
        let path = e.box.profileDir + "/demo.toml"
        // Added after the login, as an edit would be.
        let profile = try #require(e.box.read(path))
        e.box.writeProfile(
            "demo",
            profile + """

                [[file]]
                path_env = "FIRST_FILE"
                template = "{{access_token}}"
                name = "token"
                [[file]]
                path_env = "SECOND_FILE"
                template = "{{username}}"
                name = "token"
                """)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(
            result.stderr.contains(
                "tokenrun: error: \(path):15: [[file]] SECOND_FILE would be written as \"token\" (file.name), the name of the [[file]] on line 11"
            ))
        #expect(result.stderr.contains("tokenrun: hint: fix line 15 of \(path), then check it: tokenrun profiles validate \(path)"))
        #expect(try e.provider.stats().token_requests == 0)
        let validate = e.box.run(["profiles", "validate", path])
        #expect(validate.status == 78)
        #expect(validate.stderr.contains("\(path):15:"))
    }

    @Test("a file.name equal to another [[file]]'s default name is refused too")
    func explicitNameMeetsDefault() throws {
        let e = try EndToEnd(
            extra: """
                [[file]]
                path_env = "FIRST_FILE"
                template = "{{access_token}}"
                name = "demo-2.token"
                [[file]]
                path_env = "SECOND_FILE"
                template = "{{username}}"
                """)
        let result = e.box.run(["profiles", "validate"])
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("[[file]] SECOND_FILE would be written as \"demo-2.token\" (the default name)"))
    }
}
