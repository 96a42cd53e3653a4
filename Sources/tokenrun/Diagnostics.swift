// The only code that writes tokenrun's own messages to stderr. Errors print
// as `tokenrun: error: …` followed by `tokenrun: hint: …` lines; notices as
// `tokenrun: …`. Nothing printed here ever holds a secret: TokenrunError cases
// carry paths, names and fingerprints only.
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
        writeStderr("tokenrun: warning: \(message)\n")
    }

    static func report(_ error: TokenrunError) {
        var text = "tokenrun: error: \(error.summary)\n"
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

/// Writes to standard output without Foundation.
enum Output {
    static func line(_ text: String = "") {
        print(text)
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    static func table(_ rows: [[String]]) {
        guard let width = rows.map(\.count).max() else { return }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (index, cell) in row.enumerated() where index < width - 1 {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in rows {
            var text = ""
            for (index, cell) in row.enumerated() {
                text += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            print(text)
        }
    }
}
