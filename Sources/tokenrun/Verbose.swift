// --verbose for run and get: what tokenrun decided, on stderr, as
// `tokenrun: verbose: …` lines. Like the rest of the output it names
// profiles, files, variables and times — never a token, secret or key.
import TokenrunKit

struct Verbose {
    let enabled: Bool

    func say(_ message: @autoclosure () -> String) {
        if enabled { Diagnostics.writeStderr("tokenrun: verbose: \(message())\n") }
    }

    /// How each profile's token was obtained.
    func report(_ ready: TokenService.Result, now: Int64) {
        guard enabled else { return }
        say("vault \(ready.sealedWith == "" ? "" : "sealed with \(ready.sealedWith), ")unlocked")
        for injection in ready.injections {
            let profile = injection.profile
            say("profile \(profile.name) from \(profile.source)")
            let left = injection.credential.expiresAt.map { DurationParser.format(max(0, $0 - now)) } ?? "no expiry"
            switch ready.outcomes[profile.name] {
            case .fresh?, nil:
                say(
                    "\(profile.name): access token still fresh (\(left) left, window \(DurationParser.format(profile.refreshWindow))); no network"
                )
            case .refreshedElsewhere?:
                say("\(profile.name): another tokenrun refreshed it while this one waited; \(left) left")
            case .refreshed(let rotated, let latency)?:
                say("\(profile.name): refreshed in \(latency) ms\(rotated ? ", refresh token rotated" : ""); \(left) left")
            case .staleButValid(let reason)?:
                say("\(profile.name): refresh failed (\(reason)); using the current token, \(left) left")
            }
        }
    }
}
