// One provider, one sandbox and one profile "demo" per test.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

final class EndToEnd: @unchecked Sendable {
    let box = CLISandbox()
    let provider: TestProvider
    /// The demo profile's token endpoint: the provider's https one when made with `tls`.
    let tokenEndpoint: String
    var python: String { TestProvider.python }
    var child: String { TestProvider.childScript }

    /// `oauth` lines are added to the demo profile's [oauth] table; `extra` after it; `top` among
    /// its top-level keys. With `tls`
    /// the provider also serves https with that certificate, and the profile's token endpoint is
    /// there (the child and the tests' control calls keep the plain-http URL).
    init(
        oauth: String = "client_id = \"tokenrun-test\"\nclient_secret = \"test-secret\"", extra: String = "",
        top: String = "", tls: TestCA.Leaf? = nil
    ) throws {
        provider = try TestProvider(in: box, tls: tls.map { [$0] } ?? [])
        tokenEndpoint = tls == nil ? provider.tokenEndpoint : provider.tlsTokenEndpoint()
        box.writeProfile(
            "demo",
            """
            description = "end-to-end demo"
            username = "alice@example.com"
            \(top.isEmpty ? "" : top + "\n")[oauth]
            token_endpoint = "\(tokenEndpoint)"
            \(oauth)
            scopes = ["api.read", "offline_access"]
            [env]
            TOKEN = "{{access_token}}"
            \(extra)
            """)
    }

    /// Seeds a grant at the provider and imports its refresh token.
    @discardableResult
    func login(client: String = "tokenrun-test", accessExpiresIn: Int = 0) throws -> TestProvider.Seed {
        let seed = try provider.seed(client: client, accessExpiresIn: accessExpiresIn)
        let result = box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token + "\n")
        // A test's failure, not the process's: a profile tokenrun refuses must not stop every suite.
        try #require(result.status == 0, "\(result.all)")
        return seed
    }

    /// A vault sealed with `passphrase` (Argon2id at the fast "interactive" cost) holding a grant for "demo".
    func passphraseLogin(_ passphrase: String, accessExpiresIn: Int = 3600) throws {
        let env = ["TOKENRUN_PASSPHRASE": passphrase]
        let made = box.run(["vault", "init", "--passphrase", "--kdf-cost", "interactive"], environment: env)
        try #require(made.status == 0, "\(made.all)")
        let seed = try provider.seed(accessExpiresIn: accessExpiresIn)
        let imported = box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token, environment: env)
        try #require(imported.status == 0, "\(imported.all)")
    }

    /// `tokenrun [flags] -p demo -- python child.py --url URL [childArgs]`.
    func launch(_ childArgs: [String] = [], flags: [String] = [], environment: [String: String] = [:]) -> CLIResult {
        box.run(flags + ["-p", "demo", "--", python, child, "--url", provider.url] + childArgs, environment: environment)
    }

    func startLaunch(_ childArgs: [String] = []) -> RunningProcess {
        box.start(["-p", "demo", "--", python, child, "--url", provider.url] + childArgs)
    }

    var audit: String { box.read(box.auditPath) ?? "" }

    /// Every directory left under the runtime dir.
    var leftoverRunDirectories: [String] { directoryNames(box.runtimeDir).filter { $0.hasPrefix("run-") } }
}

/// An integer from the environment (the stress tests' sizes), or `fallback`.
func environmentInteger(_ name: String, default fallback: Int) -> Int {
    getenv(name).flatMap { Int(String(cString: $0)) } ?? fallback
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
