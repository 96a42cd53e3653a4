import Foundation
import TestSupport
import Testing

@Suite("the code's layout: stages in Package.swift as ARCHITECTURE.md draws them, an executable that only parses and prints")
struct ArchitectureTests {
    /// Library targets beside the stages: the umbrella, the version, the network helper's and the fuzzers' code.
    static let notStages = ["TokenrunKit", "TokenrunVersion", "TokenrunCurl", "TokenrunPostgres", "TokenrunHelperKit", "TokenrunFuzz"]

    /// Each library target of Package.swift with the targets it depends on, in declaration order.
    static func targets() throws -> [(name: String, dependencies: [String])] {
        let manifest = try #require(readText(TestProvider.repository + "/Package.swift"))
        let pattern = try NSRegularExpression(pattern: #"\.target\(\s*name: "(\w+)",\s*dependencies: \[([^\]]*)\]"#)
        let range = NSRange(manifest.startIndex..., in: manifest)
        return pattern.matches(in: manifest, range: range).map { match in
            let name = String(manifest[Range(match.range(at: 1), in: manifest)!])
            let list = String(manifest[Range(match.range(at: 2), in: manifest)!])
            let names = list.split(separator: ",").compactMap { item -> String? in
                let quoted = item.split(separator: "\"", omittingEmptySubsequences: false)
                return quoted.count >= 2 ? String(quoted[1]) : nil
            }
            return (name, names)
        }
    }

    /// The stages as ARCHITECTURE.md's table lists them, top (last in the data flow) first.
    static func drawnStages() throws -> [String] {
        let page = try #require(MarkdownPage("ARCHITECTURE.md"))
        return page.text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `Tokenrun") else { return nil }
            return line.split(separator: "`")[1].description
        }
    }

    @Test("ARCHITECTURE.md fits on one screen and is linked from README.md and CONTRIBUTING.md")
    func onePage() throws {
        let page = try #require(MarkdownPage("ARCHITECTURE.md"))
        #expect(page.lineCount <= 60, "ARCHITECTURE.md has \(page.lineCount) lines")
        for linking in ["README.md", "CONTRIBUTING.md"] {
            #expect(try #require(MarkdownPage(linking)).linkTargets.contains("ARCHITECTURE.md"), "\(linking) does not link it")
        }
    }

    @Test("every stage depends only on stages below it in ARCHITECTURE.md's table, and the table names every stage")
    func stagesInOrder() throws {
        let stages = try Self.drawnStages()
        let targets = try Self.targets()
        let stageTargets = targets.filter { $0.name.hasPrefix("Tokenrun") && !Self.notStages.contains($0.name) }
        #expect(stages.count >= 8, "the table lists \(stages)")
        #expect(Set(stages) == Set(stageTargets.map(\.name)), "table \(stages) vs Package.swift \(stageTargets.map(\.name))")
        for target in stageTargets {
            guard let position = stages.firstIndex(of: target.name) else { continue }
            let below = Set(stages[(position + 1)...])
            for dependency in target.dependencies where stages.contains(dependency) {
                #expect(below.contains(dependency), "\(target.name) depends on \(dependency), which the table draws above it")
            }
        }
        // The umbrella re-exports the top stage, which brings every other one.
        let umbrella = try #require(targets.first { $0.name == "TokenrunKit" })
        #expect(umbrella.dependencies == [stages[0]])
    }

    @Test("the executable's sources name none of the launch pipeline's parts: the Launcher owns them")
    func thinExecutable() throws {
        let directory = TestProvider.repository + "/Sources/tokenrun"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        for file in files {
            let text = try #require(readText(directory + "/" + file))
            for part in ["ChildProcess", "ChildEnvironment", "FileKeeper", "TokenServer", "TemplateValues", "PrivateFiles"] {
                #expect(!text.contains(part), "Sources/tokenrun/\(file) names \(part)")
            }
        }
        #expect(try #require(readText(directory + "/RunCommand.swift")).contains("Launcher("))
    }
}
