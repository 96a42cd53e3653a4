import ArgumentParser
import TokenrunKit

/// `--min-ttl DUR`: the access token must stay valid at least this long.
struct MinTTLOption: ParsableArguments {
    @Option(
        name: .customLong("min-ttl"),
        help: ArgumentHelp(
            "Refresh unless the token stays valid this long (\"90s\", \"10m\", \"1h\"); longer than the provider's token lifetime, it warns instead of refreshing every time.",
            valueName: "DUR"))
    var minTTL: String?

    @Flag(name: .customLong("refresh"), help: "Get a new access token from the provider now, whatever the stored one's life.")
    var refresh = false

    func validate() throws {
        if let minTTL, DurationParser.seconds(minTTL) == nil {
            throw ValidationError("--min-ttl: expected \(DurationParser.expectation), found \"\(minTTL)\"")
        }
    }

    var seconds: Int64? { minTTL.flatMap(DurationParser.seconds) }
}
