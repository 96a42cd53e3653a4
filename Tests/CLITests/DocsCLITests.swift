import Foundation
import TestSupport
import Testing

@Suite("the documentation: a short README, pages under docs/, links that lead somewhere")
struct DocsCLITests {
    /// The front door's sections, in this order; scripts/release-test.sh reads the Install section by its heading.
    static let readmeSections = [
        "Install", "Quick start", "Logging in", "Running commands", "Tokens on demand: get and export", "Profiles", "Exit status",
        "When something is wrong",
    ]

    static var docsPages: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestProvider.repository + "/docs")) ?? []
        return names.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    @Test("README.md is at most 300 lines and has the front door's sections in order")
    func readmeIsAFrontDoor() throws {
        let readme = try #require(MarkdownPage("README.md"))
        #expect(readme.lineCount <= 300, "README.md has \(readme.lineCount) lines: move detail to a page under docs/")
        #expect(readme.headings(level: 1) == ["tokenrun"])
        let sections = readme.headings(level: 2)
        #expect(sections.filter(Self.readmeSections.contains) == Self.readmeSections, "README's sections: \(sections)")
        // What tokenrun is comes first, with the one-line example.
        let intro = try #require(readme.text.components(separatedBy: "\n## ").first)
        #expect(intro.contains("\n    tokenrun -p gmail -- "))
    }

    @Test(
        "every relative link of README.md, CONTRIBUTING.md, SECURITY.md, ARCHITECTURE.md and docs/*.md leads to a file, and its #anchor to a heading"
    )
    func linksResolve() throws {
        let pages = ["README.md", "CONTRIBUTING.md", "SECURITY.md", "ARCHITECTURE.md"] + Self.docsPages
        #expect(pages.count > 10)
        var checked = 0
        for path in pages {
            let page = try #require(MarkdownPage(path), "\(path) is missing")
            for target in page.linkTargets where !target.contains("://") && !target.hasPrefix("mailto:") {
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let file = String(parts[0])
                let directory = (path as NSString).deletingLastPathComponent
                let resolved = file.isEmpty ? path : ((directory as NSString).appendingPathComponent(file) as NSString).standardizingPath
                #expect(
                    FileManager.default.fileExists(atPath: TestProvider.repository + "/" + resolved),
                    "\(path) links to \(target): \(resolved) does not exist")
                checked += 1
                guard parts.count == 2, resolved.hasSuffix(".md"), let linked = MarkdownPage(resolved) else { continue }
                #expect(
                    linked.anchors.contains(String(parts[1])),
                    "\(path) links to \(target): \(resolved) has no heading with that anchor (it has \(linked.anchors.sorted()))")
            }
        }
        #expect(checked > 40, "only \(checked) links found: is the link reader broken?")
    }

    @Test("every page under docs/ is linked from README.md")
    func everyPageIsLinked() throws {
        let readme = try #require(MarkdownPage("README.md"))
        let linked = Set(readme.linkTargets.map { String($0.split(separator: "#", omittingEmptySubsequences: false)[0]) })
        #expect(Self.docsPages.count >= 8)
        for page in Self.docsPages { #expect(linked.contains(page), "README.md does not link to \(page)") }
        #expect(linked.contains("CONTRIBUTING.md"))
        #expect(linked.contains("ARCHITECTURE.md"))
    }

    @Test("docs/json-output.md names every key the --json tests check")
    func jsonKeysDocumented() throws {
        let page = try #require(MarkdownPage("docs/json-output.md"))
        let all: [Set<String>] = [
            DocumentedJSON.status, DocumentedJSON.doctor, DocumentedJSON.doctorCheck, DocumentedJSON.doctorSummary,
            DocumentedJSON.profilesList, DocumentedJSON.profilesShow, DocumentedJSON.profilesShowOAuth,
            DocumentedJSON.profilesShowRefresh, DocumentedJSON.profilesShowFile, DocumentedJSON.vaultStatus,
            DocumentedJSON.logRecordAll,
        ]
        for key in all.reduce(into: Set<String>(), { $0.formUnion($1) }).sorted() {
            #expect(page.text.contains("`\(key)`") || page.text.contains("\"\(key)\""), "docs/json-output.md does not name \(key)")
        }
    }

    @Test("GitHub's anchor rules: lower case, spaces as dashes, punctuation but - and _ dropped, repeats numbered")
    func anchorRules() {
        #expect(
            MarkdownPage.anchor("Unlocking once per session: `vault unlock` and `vault lock`")
                == "unlocking-once-per-session-vault-unlock-and-vault-lock")
        #expect(MarkdownPage.anchor("Walk-through: Gmail") == "walk-through-gmail")
        #expect(MarkdownPage.anchor("A token server for the command: run --serve") == "a-token-server-for-the-command-run---serve")
        #expect(MarkdownPage.anchor("snake_case (and more)") == "snake_case-and-more")
        let page = MarkdownPage(path: "x.md", text: "# Title\n## Step\n## Step\n    # not a heading\n```\n# nor this\n```\n")
        #expect(page.anchors == ["title", "step", "step-1"])
    }

    @Test("links are read across lines and never from code")
    func linkReading() {
        let text =
            "See [the\nvault](docs/vault.md#where-files-live) and [x](a.md).\n\n    [code](not-a-link.md)\n```\n[fenced](nor-this.md)\n```\n"
        #expect(MarkdownPage(path: "x.md", text: text).linkTargets == ["docs/vault.md#where-files-live", "a.md"])
    }
}
