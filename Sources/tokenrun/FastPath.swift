// The two hot paths — `tokenrun [run] -p NAME… [--min-ttl DUR] [--refresh] [--no-exec] -- CMD…` and
// `tokenrun get -p NAME [--field F]` — parsed by hand. ArgumentParser builds
// its model by reflection, and the dynamic casts that takes scan every
// protocol conformance in the binary: measured, that was most of a warm
// launch's start-up. Anything this parser does not recognise exactly (help,
// other flags, a missing value, a bad duration) falls through to
// ArgumentParser, which then gives the same result or the proper usage error.
import ArgumentParser
import TokenrunKit

enum FastPath {
    /// What a hot-path command line means. ArgumentParser must read the same from it
    /// (FastPathTests checks it over generated command lines).
    enum Parsed: Equatable {
        case run(profiles: [String], minTTL: Int64?, force: Bool, exec: Bool, command: [String])
        case get(profile: String, field: GetCommand.Field)
    }

    /// The exit status when the arguments were handled here; nil to use ArgumentParser.
    static func handle(_ arguments: [String]) -> Int32? {
        switch parse(arguments) {
        case let .run(profiles, minTTL, force, exec, command)?:
            return status { try RunCommand.launch(profiles: profiles, minTTL: minTTL, force: force, command: command, exec: exec) }
        case let .get(profile, field)?:
            return status { try GetCommand.printValue(profile: profile, field: field, minTTL: nil, json: false) }
        case nil:
            return nil
        }
    }

    /// `arguments` (argv, the program's name first) read by hand, or nil for ArgumentParser.
    static func parse(_ arguments: [String]) -> Parsed? {
        var rest = arguments.dropFirst()
        if rest.first == "get" { return get(Array(rest.dropFirst())) }
        if rest.first == "run" { rest = rest.dropFirst() }
        var profiles: [String] = []
        var minTTL: Int64?
        var force = false
        var exec = true
        while let word = rest.first {
            rest = rest.dropFirst()
            switch word {
            case "--":
                // A profile named twice is a usage error, which ArgumentParser's validate() reports.
                guard !profiles.isEmpty, !rest.isEmpty, RepeatedProfiles.duplicate(in: profiles) == nil else { return nil }
                return .run(profiles: profiles, minTTL: minTTL, force: force, exec: exec, command: Array(rest))
            case "-p", "--profile":
                guard let name = rest.first, !name.hasPrefix("-") else { return nil }
                profiles.append(name)
                rest = rest.dropFirst()
            case "--refresh":
                force = true
            case "--no-exec":
                exec = false
            case "--min-ttl":
                guard let text = rest.first, let seconds = DurationParser.seconds(text) else { return nil }
                minTTL = seconds
                rest = rest.dropFirst()
            default:
                return nil
            }
        }
        return nil
    }

    /// `get -p NAME [--field F]`, in either order.
    static func get(_ arguments: [String]) -> Parsed? {
        var profile: String?
        var field = GetCommand.Field.accessToken
        var rest = arguments[...]
        while let word = rest.first {
            guard let value = rest.dropFirst().first, !value.hasPrefix("-") else { return nil }
            switch word {
            case "-p", "--profile":
                guard profile == nil else { return nil }
                profile = value
            case "--field":
                guard let parsed = GetCommand.Field(rawValue: value) else { return nil }
                field = parsed
            default: return nil
            }
            rest = rest.dropFirst(2)
        }
        guard let profile else { return nil }
        return .get(profile: profile, field: field)
    }

    /// Runs `body`, turning its ExitCode into a status.
    static func status(_ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            Diagnostics.writeStderr("tokenrun: error: \(error)\n")
            return 1
        }
    }
}
