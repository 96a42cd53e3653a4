// Opening the authorization URL for `login`: `$BROWSER URL` when BROWSER is
// set (the convention xdg-open and Python's webbrowser follow), else
// `xdg-open URL` when a display exists. The browser is started and left
// running; its output goes to tokenrun's stderr (xdg-open's to /dev/null).
// It runs in a session keyring of its own, as the command does.
import TokenrunSupport
#if canImport(Glibc)
    import Glibc
#endif

/// Starts a browser on a URL.
public enum Browser {
    /// The command that would open a URL in this environment, or nil when none applies.
    public static func command(environment: [String: String]) -> [String]? {
        if let browser = environment["BROWSER"], let first = browser.split(separator: ":").first {
            let words = first.split(separator: " ").map(String.init)
            if !words.isEmpty { return words }
        }
        let display = [environment["DISPLAY"], environment["WAYLAND_DISPLAY"]].contains { ($0 ?? "").isEmpty == false }
        return display ? ["xdg-open"] : nil
    }

    /// Starts the browser on `url`; returns the program started, or nil when none could be.
    @discardableResult
    public static func open(_ url: String, environment: [String: String]) -> String? {
        guard let command = command(environment: environment) else { return nil }
        let words = command.contains { $0.contains("%s") } ? command.map { $0.replacing("%s", with: url) } : command + [url]
        let quiet = command[0] == "xdg-open"
        do {
            _ = try ChildProcess.spawnForUser(
                words, environment: KeyVariables.removed(from: environment),
                stdio: quiet ? [.null, .null, .null] : [.null, .copy(2), .inherit])
            return words[0]
        } catch {
            return nil
        }
    }
}
