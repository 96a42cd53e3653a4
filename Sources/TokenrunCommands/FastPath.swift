// The two hot paths — `tokenrun [run] -p NAME… [--min-ttl DUR] [--refresh] [--no-exec] -- CMD…` and
// `tokenrun get -p NAME [--field F]` — parsed by hand, in the small `tokenrun`
// program, which links neither ArgumentParser nor Foundation: their metadata
// alone (relocated at every start, and the dynamic casts ArgumentParser's
// reflection makes scan every conformance) was most of a warm launch. Anything
// this parser does not recognise exactly (help, other flags, a missing value, a
// bad duration) goes to tokenrun-cli, whose ArgumentParser gives the same
// result or the proper usage error.
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

public enum FastPath {
    /// What a hot-path command line means. tokenrun-cli's ArgumentParser must read the same from it
    /// (FastPathTests checks it over generated command lines).
    public enum Parsed: Equatable {
        case run(profiles: [String], minTTL: Int64?, force: Bool, exec: Bool, command: [String])
        case get(profile: String, field: GetField)
    }

    /// Runs a command line `parse` read; gives its exit status.
    public static func run(_ parsed: Parsed) -> Int32 {
        switch parsed {
        case let .run(profiles, minTTL, force, exec, command):
            return Diagnostics.status {
                try HotPaths.launch(profiles: profiles, minTTL: minTTL, force: force, command: command, exec: exec)
            }
        case let .get(profile, field):
            return Diagnostics.status {
                try HotPaths.printValue(profile: profile, field: field, minTTL: nil)
                return 0
            }
        }
    }

    /// Hands `arguments`, unchanged, to tokenrun-cli (exec: same pid and environment); on
    /// failure says why and gives the status to exit with.
    public static func handOver(_ arguments: [String]) -> Int32 {
        let program = ChildProcess.commandLineProgram()
        ChildProcess.execOwnProgram(program, arguments: arguments)
        Diagnostics.report(.commandLineHelperMissing(path: program, reason: String(cString: strerror(errno))))
        return ExitStatus.configuration.rawValue
    }

    /// `arguments` (argv, the program's name first) read by hand, or nil for tokenrun-cli.
    public static func parse(_ arguments: [String]) -> Parsed? {
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
    public static func get(_ arguments: [String]) -> Parsed? {
        var profile: String?
        var field = GetField.accessToken
        var rest = arguments[...]
        while let word = rest.first {
            guard let value = rest.dropFirst().first, !value.hasPrefix("-") else { return nil }
            switch word {
            case "-p", "--profile":
                guard profile == nil else { return nil }
                profile = value
            case "--field":
                guard let parsed = GetField(rawValue: value) else { return nil }
                field = parsed
            default: return nil
            }
            rest = rest.dropFirst(2)
        }
        guard let profile else { return nil }
        return .get(profile: profile, field: field)
    }
}
