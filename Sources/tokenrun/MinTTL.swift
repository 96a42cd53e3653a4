import ArgumentParser
import TokenrunKit

/// `--min-ttl DUR`: the access token must stay valid at least this long.
struct MinTTLOption: ParsableArguments {
    @Option(
        name: .customLong("min-ttl"),
        help: ArgumentHelp("Refresh unless the token stays valid this long (\"90s\", \"10m\", \"1h\").", valueName: "DUR"))
    var minTTL: String?

    func validate() throws {
        if let minTTL, DurationParser.seconds(minTTL) == nil {
            throw ValidationError("--min-ttl: expected \(DurationParser.expectation), found \"\(minTTL)\"")
        }
    }

    var seconds: Int64? { minTTL.flatMap(DurationParser.seconds) }
}
