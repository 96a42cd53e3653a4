// Opening the authorization URL for `login`: `$BROWSER URL` when BROWSER is
// set (the convention xdg-open and Python's webbrowser follow), else
// `xdg-open URL` when a display exists. The browser is started and left
// running; its output goes to tokenrun's stderr (xdg-open's to /dev/null).
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
        let argv = words.map { strdup($0) } + [nil]
        let env = KeySources.removingKeyVariables(from: environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in env { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if command[0] == "xdg-open" {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 2, 1)
        }
        var pid: pid_t = 0
        let spawned = ProcessHardening.withCallerSettings {
            ChildProcess.withChildAttributes { posix_spawnp(&pid, words[0], &actions, &$0, argv, env) }
        }
        return spawned == 0 ? words[0] : nil
    }
}
