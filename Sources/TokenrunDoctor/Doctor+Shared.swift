// The fleet check: vault.shared, when TOKENRUN_VAULT_URL or `[vault] url` names
// a shared vault. Like the endpoint probe it reaches out (one connection, reads
// only), so it is skipped with --offline. It says whether the database answers,
// whether its tables are there, and whether this host's vault is its copy (the
// same header: the same key); never the URL's password.
import TokenrunProfiles
import TokenrunSupport
import TokenrunVault

extension Doctor {
    func sharedVaultCheck(localHeaderLine: String?) -> DoctorCheck? {
        let url: SharedVaultURL?
        do {
            url = try SharedVaultURL.configured(environment: environment, configPath: paths.globalConfig, lenient: true)
        } catch let error as TokenrunError {
            return .fail("vault.shared", error)
        } catch {
            return nil
        }
        guard let url else {
            // A fleet's copy with no URL here: the refreshes of this environment would stop.
            guard let mark = try? FileSystem.readFile(paths.vault + ".shared", limit: 4096) else { return nil }
            let shown = String(decoding: mark, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "?"
            return .fail("vault.shared", TokenrunError.sharedVaultNotConfigured(vault: paths.vault, sharedWith: shown))
        }
        if offline { return .pass("vault.shared", "\(url.shown): not contacted (--offline)") }
        do {
            let shared = SharedVault(session: try PostgresSession.open(url, environment: environment))
            defer { shared.session.close() }
            guard let schema = try shared.installedSchema() else {
                return .fail(
                    "vault.shared", "\(url.shown) answers but holds no tokenrun tables",
                    fix: "create them once, with a role that may: tokenrun vault init")
            }
            let count = try shared.count()
            let described =
                "\(url.shown): PostgreSQL \(shared.session.serverVersion ?? "?"), schema \(schema), \(count) credential\(count == 1 ? "" : "s")"
            guard let header = try shared.header() else {
                return .fail("vault.shared", "\(described), not set up", fix: "tokenrun vault init")
            }
            guard let localHeaderLine else {
                return .fail(
                    "vault.shared", "\(described); this host has no copy of it",
                    fix: "copy the fleet's key file here, then: tokenrun vault init")
            }
            guard localHeaderLine == header else {
                return .fail(
                    "vault.shared", "\(described); this host's vault \(paths.vault) is another vault (another key)",
                    fix: "move it aside, copy the fleet's key file here, then: tokenrun vault init")
            }
            return .pass("vault.shared", "\(described); this host's vault is its copy")
        } catch let error as TokenrunError {
            return .fail("vault.shared", error)
        } catch {
            return .fail("vault.shared", "\(url.shown): \(error)", fix: "tokenrun vault status")
        }
    }
}
