// The committed inputs: Tests/Fuzz/corpus/TARGET/ holds seeds (valid and
// typical inputs to start mutating from), Tests/Fuzz/regressions/TARGET/ the
// inputs that once found a bug, each named after it.
import TokenrunKit

public enum FuzzCorpus {
    /// Tests/Fuzz of this checkout, from this file's path.
    public static let root: String = {
        let file = #filePath
        return String(file[..<file.firstRange(of: "/Targets/")!.lowerBound])
    }()

    public static func seedDirectory(_ target: FuzzTarget) -> String { "\(root)/corpus/\(target.rawValue)" }
    public static func regressionDirectory(_ target: FuzzTarget) -> String { "\(root)/regressions/\(target.rawValue)" }

    /// The files of `directory` (sorted by name) with their bytes; a path that is a file is read alone.
    public static func files(in directory: String) -> [(name: String, bytes: [UInt8])] {
        if let status = try? FileSystem.status(directory), status.isRegularFile {
            return [(directory, read(directory))]
        }
        return FileSystem.listDirectory(directory).sorted().filter { !$0.hasPrefix(".") }.map { name in
            (name, read(directory + "/" + name))
        }
    }

    static func read(_ path: String) -> [UInt8] {
        (try? FileSystem.readFile(path, limit: 16 << 20, followSymlinks: true)) ?? []
    }
}
