import Testing

@testable import TokenrunProfiles
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("the shared vault's URL: which one, and which are refused")
struct SharedVaultURLTests {
    @Test("postgres:// and postgresql:// only; spaces and control characters refused; the message shows it redacted")
    func accepted() throws {
        #expect(try SharedVaultURL("postgresql://fleet@db/tokenrun").text == "postgresql://fleet@db/tokenrun")
        #expect(try SharedVaultURL("postgres://fleet:pw@db/tokenrun").shown == "postgres://***@db/tokenrun")
        #expect(SharedVaultURL.problem(with: "postgresql:///?service=fleet") == nil)
        for bad in ["mysql://u:pw@db/x", "db:5432", "postgresql://u:pw@db/x y", "postgresql://u:pw@db/x\n"] {
            #expect(throws: TokenrunError.self) { try SharedVaultURL(bad) }
            do {
                _ = try SharedVaultURL(bad)
            } catch let error as TokenrunError {
                #expect(!error.summary.contains("pw"), "\(error.summary)")
                #expect(error.exitStatus == .configuration)
            }
        }
    }

    @Test("TOKENRUN_VAULT_URL comes first, empty means none; else [vault] url; else none")
    func configured() throws {
        let config = GlobalConfig(vaultURL: "postgresql://from-config/tokenrun")
        #expect(try SharedVaultURL.configured(environment: [:], config: config)?.text == "postgresql://from-config/tokenrun")
        #expect(try SharedVaultURL.configured(environment: [:], config: nil) == nil)
        let env = ["TOKENRUN_VAULT_URL": "postgresql://from-env/tokenrun"]
        #expect(try SharedVaultURL.configured(environment: env, config: config)?.text == "postgresql://from-env/tokenrun")
        #expect(try SharedVaultURL.configured(environment: ["TOKENRUN_VAULT_URL": ""], config: config) == nil)
    }

    @Test("the helper's environment: libpq's PG* variables and HOME, nothing of tokenrun's")
    func helperEnvironment() {
        let env = PostgresSession.helperEnvironment([
            "HOME": "/home/u", "PGPASSFILE": "/p", "PGSERVICE": "s", "TOKENRUN_VAULT_URL": "postgresql://x", "TOKENRUN_KEY_FILE": "/k",
            "PATH": "/bin", "SSLKEYLOGFILE": "/tmp/keys",
        ])
        #expect(env == ["HOME": "/home/u", "PGPASSFILE": "/p", "PGSERVICE": "s"])
    }
}
