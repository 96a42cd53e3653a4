import Foundation
import TestSupport
import Testing

/// One version: the VERSION file, compiled in (with the git commit) by
/// Plugins/VersionPlugin through scripts/version.sh.
@Suite("tokenrun --version and the VERSION file")
struct VersionCLITests {
    static let version = (readText(TestProvider.repository + "/VERSION") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)

    /// git's short hash of this checkout's HEAD, as the build saw it.
    static func head() -> String {
        let git = CLISandbox().run(
            ["-C", TestProvider.repository, "rev-parse", "--short=12", "HEAD"], program: "/usr/bin/git")
        return git.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("tokenrun --version prints the VERSION file's version and the commit it was built from")
    func tokenrunVersion() throws {
        try #require(!Self.version.isEmpty, "VERSION is missing")
        let result = CLISandbox().run(["--version"])
        #expect(result.status == 0)
        let head = Self.head()
        try #require(head.count == 12, "not a git checkout")
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line == "\(Self.version) (commit \(head))" || line == "\(Self.version) (commit \(head)-dirty)", "\(line)")
    }

    @Test("tokenrun-http --version says the same; a stray argument is a usage error")
    func helperVersion() throws {
        let helper = CLISandbox.binary + "-http"
        let box = CLISandbox()
        let ours = box.run(["--version"]).stdout.trimmingCharacters(in: .newlines)
        let result = box.run(["--version"], program: helper)
        #expect(result.status == 0)
        #expect(result.stdout == "tokenrun-http \(ours)\n")
        let stray = box.run(["--frobnicate"], program: helper)
        #expect(stray.status == 64)
        #expect(stray.stderr.contains("unknown argument '--frobnicate'"))
    }

    @Test("scripts/version.sh: the version and no commit outside git, no rewrite when nothing changed, a bad VERSION refused")
    func versionScript() throws {
        let box = CLISandbox()
        let source = box.root + "/src"
        CLISandbox.makeDirectories(source)
        box.write("src/VERSION", "2.3.4-rc1\n")
        let script = TestProvider.repository + "/scripts/version.sh"
        let output = box.root + "/out"
        let first = box.run([script, source, output], program: "/bin/sh")
        #expect(first.status == 0, "\(first.stderr)")
        let generated = try #require(readText(output + "/Version.swift"))
        #expect(generated.contains(#"let generatedVersion = "2.3.4-rc1""#))
        #expect(generated.contains(#"let generatedCommit = "unknown""#))

        var before = stat()
        #expect(stat(output + "/Version.swift", &before) == 0)
        usleep(20_000)
        #expect(box.run([script, source, output], program: "/bin/sh").status == 0)
        var after = stat()
        #expect(stat(output + "/Version.swift", &after) == 0)
        #expect(before.st_mtim.tv_nsec == after.st_mtim.tv_nsec && before.st_mtim.tv_sec == after.st_mtim.tv_sec)

        box.write("src/VERSION", "1.0\"; evil()\n")
        let bad = box.run([script, source, output], program: "/bin/sh")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("VERSION must hold one version"))
        #expect(readText(output + "/Version.swift") == generated)
    }

    @Test("the man pages leave the version to the install (.Os), and tokenrun-http has one")
    func manPages() throws {
        for page in ["tokenrun.1", "tokenrun-http.1"] {
            let text = try #require(readText(TestProvider.repository + "/man/" + page), "\(page)")
            #expect(text.split(separator: "\n").contains(".Os"), "\(page)")
        }
    }
}
