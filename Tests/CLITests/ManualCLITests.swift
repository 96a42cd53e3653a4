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

    @Test("the man page documents the exit status, and the Makefile says how to regenerate it")
    func manualExitStatus() throws {
        let page = try #require(readText(TestProvider.repository + "/man/tokenrun.1"))
        for code in ["64", "75", "77", "78", "126", "127"] { #expect(page.contains(code), "\(code)") }
        let makefile = try #require(readText(TestProvider.repository + "/Makefile"))
        #expect(makefile.contains("make man"))
    }
}
