// The only code that writes tokenrun's own messages to stderr. Errors print
// as `tokenrun: error: …` followed by `tokenrun: hint: …` lines; notices as
// `tokenrun: …`. Nothing printed here ever holds a secret: TokenrunError cases
// carry paths, names and fingerprints only.
//
// Colour: `Colour` alone decides. Only on a terminal, never with NO_COLOR set
// to anything (https://no-color.org) or TERM=dumb, and never in --json output
// (JSON is printed without it). Only words that carry a verdict are coloured:
// the error and warning prefixes, doctor's pass/warn/fail, status's state.
import ArgumentParser
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

enum Diagnostics {
    static func notice(_ message: String) {
        writeStderr("tokenrun: \(message)\n")
    }

    static func warning(_ message: String) {
        writeStderr("tokenrun: \(Colour.paint("warning:", .yellow, fd: 2)) \(message)\n")
    }

    static func report(_ error: TokenrunError) {
        var text = "tokenrun: \(Colour.paint("error:", .red, fd: 2)) \(error.summary)\n"
        for hint in error.hints { text += "tokenrun: hint: \(hint)\n" }
        writeStderr(text)
    }

    static func writeStderr(_ text: String) {
        // Keep the order of stdout and stderr lines when both go to one place.
        fflush(nil)  // all output streams; avoids touching the global `stdout`
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
    }

    /// Runs a command body, turning a TokenrunError into its message and exit status.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TokenrunError {
            report(error)
            throw ExitCode(error.exitCode)
        }
    }
}

/// ANSI colour for words that carry a verdict, when the stream is a terminal and the user has not said no.
enum Colour: String {
    case red = "31"
    case yellow = "33"
    case green = "32"

    /// Whether output to `fd` may be coloured: a terminal, NO_COLOR unset or empty, TERM not dumb.
    static func enabled(fd: Int32) -> Bool {
        guard isatty(fd) == 1 else { return false }
        if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    /// `text` in `colour` when output to `fd` may be coloured, else unchanged.
    static func paint(_ text: String, _ colour: Colour, fd: Int32 = 1) -> String {
        enabled(fd: fd) ? "\u{1b}[\(colour.rawValue)m\(text)\u{1b}[0m" : text
    }
}

/// Writes to standard output without Foundation.
enum Output {
    static func line(_ text: String = "") {
        print(text)
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    /// `paint` may colour a cell (row, column, text); the padding is measured without it.
    static func table(_ rows: [[String]], paint: (Int, Int, String) -> String = { $2 }) {
        guard let width = rows.map(\.count).max() else { return }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (index, cell) in row.enumerated() where index < width - 1 {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for (rowIndex, row) in rows.enumerated() {
            var text = ""
            for (index, cell) in row.enumerated() {
                let shown = paint(rowIndex, index, cell)
                text += index == row.count - 1 ? shown : shown + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            print(text)
        }
    }
}
