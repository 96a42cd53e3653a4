import Foundation
import TestSupport
import Testing

@Suite("tokenrun man page")
struct ManualCLITests {
    /// Every command path ("tokenrun vault status") and every long option of the built binary, from its help dump.
    func definitions() -> (commands: [String], options: [String]) {
        let dump = CLISandbox().run(["--experimental-dump-help"])
        let root = (try? JSONSerialization.jsonObject(with: Data(dump.stdout.utf8))) as? [String: Any]
        var commands: [String] = []
        var options: Set<String> = []
        func walk(_ command: [String: Any], path: [String]) {
            guard let name = command["commandName"] as? String else { return }
            if (command["shouldDisplay"] as? Bool) == false { return }
            commands.append((path + [name]).joined(separator: " "))
            for argument in command["arguments"] as? [[String: Any]] ?? [] where (argument["shouldDisplay"] as? Bool) != false {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    if let long = name["name"] as? String { options.insert("--" + long) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path: path + [name]) }
        }
        if let command = root?["command"] as? [String: Any] { walk(command, path: []) }
        return (commands, options.sorted())
    }

    @Test("man/tokenrun.1 is current: it names every subcommand and long option the binary has (make man regenerates it)")
    func manualIsCurrent() throws {
        let page = try #require(readText(TestProvider.repository + "/man/tokenrun.1"), "run make man")
        let (commands, options) = definitions()
        #expect(commands.count > 10)
        for command in commands.dropFirst() {
            let last = String(command.split(separator: " ").last!)
            #expect(page.contains(last), "\(command) missing: run make man")
        }
        for option in options {
            // mdoc escapes the dashes of a flag: --min-ttl is written Fl -min-ttl or \-\-min\-ttl.
            let plain = String(option.dropFirst(2))
            #expect(
                page.contains(plain) || page.contains(plain.replacingOccurrences(of: "-", with: "\\-")), "\(option) missing: run make man")
        }
    }

    @Test("the man page lists each exit status with its meaning, and the Makefile has the rule that regenerates it")
    func manualExitStatus() throws {
        let page = try #require(readText(TestProvider.repository + "/man/tokenrun.1"))
        let lines = page.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let meanings = [
            "64": "usage error", "75": "temporary failure", "77": "a new login is needed", "78": "configuration",
            "126": "cannot be executed", "127": "not found",
        ]
        for (code, meaning) in meanings {
            #expect(lines.contains { $0.hasPrefix(code + " ") && $0.contains(meaning) }, "exit status \(code) (\(meaning))")
        }
        // The rule itself (a target that writes the page from the generator), not a comment naming it.
        let makefile = try #require(readText(TestProvider.repository + "/Makefile"))
        let rule = makefile.components(separatedBy: "\nman:").dropFirst().first ?? ""
        let recipe = rule.split(separator: "\n").dropFirst().prefix { $0.hasPrefix("\t") }.joined(separator: "\n")
        #expect(recipe.contains("generate-manual"), "the man rule runs the generator")
        #expect(recipe.contains("> man/tokenrun.1"), "the man rule writes man/tokenrun.1")
    }
}
