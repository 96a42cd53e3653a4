// Reading secrets from the controlling terminal with echo turned off. The
// passphrase never passes through stdin of a pipeline or argv.
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

enum Terminal {
    /// Whether a file descriptor is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// A prompt function for the key sources when a controlling terminal exists, else nil.
    /// The terminal is only opened when a passphrase is actually needed (readPassphrase
    /// answers nil without one), so launches with a key file never touch it.
    static func passphrasePrompt() -> (@Sendable (String) throws -> SecretBytes?)? {
        { prompt in try readPassphrase(prompt: prompt) }
    }

    /// Whether this process has a controlling terminal to ask on.
    static func hasControllingTerminal() -> Bool {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Reads one line from /dev/tty without echo; nil when there is no terminal or the line is empty.
    static func readSecret(prompt: String) throws -> SecretBytes? {
        guard var line = readHiddenLine(prompt: prompt), !line.isEmpty else { return nil }
        return try SecretBytes(consuming: &line)
    }

    /// Reads a passphrase from /dev/tty without echo; nil when there is no terminal. An empty
    /// entry is an error of its own (never taken for a wrong passphrase).
    static func readPassphrase(prompt: String) throws -> SecretBytes? {
        guard var line = readHiddenLine(prompt: prompt) else { return nil }
        guard !line.isEmpty else { throw TokenrunError.emptyPassphrase(source: .terminal) }
        return try SecretBytes(consuming: &line)
    }

    /// One line from /dev/tty, read with echo off (and echo put back even if a signal
    /// ends the prompt); nil when there is no terminal.
    private static func readHiddenLine(prompt: String) -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return PromptSignals.guarding(terminal: fd) {
            var saved = termios()
            let hasTermios = tcgetattr(fd, &saved) == 0
            if hasTermios {
                var silent = saved
                silent.c_lflag &= ~tcflag_t(ECHO)
                silent.c_lflag |= tcflag_t(ICANON)
                _ = tcsetattr(fd, TCSAFLUSH, &silent)
            }
            defer {
                if hasTermios { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
            }
            _ = prompt.withCString { write(fd, $0, strlen($0)) }
            var line: [UInt8] = []
            var byte: UInt8 = 0
            while true {
                let n = read(fd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 || byte == UInt8(ascii: "\n") { break }
                line.append(byte)
                if line.count > 65536 { break }
            }
            _ = write(fd, "\n", 1)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            return line
        }
    }

    /// Reads all of standard input, up to `limit` bytes.
    static func readStandardInput(limit: Int) -> [UInt8]? {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit { return nil }
        }
        Sodium.zero(&chunk)
        return result
    }
}
