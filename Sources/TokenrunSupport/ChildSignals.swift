#if canImport(Glibc)
    import Glibc
#endif

/// Signals a profile may ask to have sent to its child (`[refresh] on_refresh_signal`).
public enum ChildSignals {
    static let table: [(String, Int32)] = [
        ("HUP", SIGHUP), ("USR1", SIGUSR1), ("USR2", SIGUSR2), ("INT", SIGINT), ("TERM", SIGTERM), ("QUIT", SIGQUIT),
        ("WINCH", SIGWINCH), ("ALRM", SIGALRM), ("CONT", SIGCONT),
    ]

    /// The accepted names, without "SIG".
    public static var names: [String] { table.map(\.0) }

    /// The number of a signal named "HUP" or "SIGHUP".
    public static func number(_ name: String) -> Int32? {
        let bare = name.hasPrefix("SIG") ? String(name.dropFirst(3)) : name
        return table.first { $0.0 == bare }?.1
    }
}
