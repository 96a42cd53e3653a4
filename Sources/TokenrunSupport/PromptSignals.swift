// A secret prompt turns the terminal's echo off; a Ctrl-C (or SIGTERM, SIGHUP,
// SIGQUIT) while it is up must not leave it off. While `guarding` runs, a C
// handler (tokenrun_prompt_guard_begin in _TokenrunCShims) puts the saved
// terminal settings back and then lets the process die of the same signal, as
// it would have without a prompt — also in a launch, which otherwise blocks
// these signals to relay them.
import _TokenrunCShims

/// Restores a terminal's settings when a signal ends a prompt.
public enum PromptSignals {
    /// Runs `body` (which may change `fd`'s settings) with the guard in place; the settings
    /// saved are those `fd` has now. Without a terminal on `fd`, just runs `body`.
    public static func guarding<T>(terminal fd: Int32, _ body: () throws -> T) rethrows -> T {
        guard tokenrun_prompt_guard_begin(fd) == 0 else { return try body() }
        defer { tokenrun_prompt_guard_end() }
        return try body()
    }
}
