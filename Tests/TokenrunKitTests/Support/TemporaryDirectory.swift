#if canImport(Glibc)
    import Glibc
#endif
@testable import TokenrunSupport

/// A private scratch directory removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/tokenrun-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        _ = system("rm -rf '\(path)'")
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// An environment whose XDG directories all live here.
    var environment: [String: String] {
        [
            "HOME": path, "XDG_CONFIG_HOME": path + "/config", "XDG_DATA_HOME": path + "/data",
            "XDG_STATE_HOME": path + "/state", "PATH": "/usr/bin:/bin",
        ]
    }

    func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws {
        try write(name, bytes: Array(text.utf8), mode: mode)
    }

    func write(_ name: String, bytes: [UInt8], mode: mode_t = 0o600) throws {
        let full = file(name)
        try FileSystem.makeDirectories(full.directoryName)
        unlink(full)
        try FileSystem.createExclusive(full, bytes: bytes)
        chmod(full, mode)
    }

    func read(_ name: String) -> [UInt8]? {
        (try? FileSystem.readFile(file(name), followSymlinks: true)) ?? nil
    }
}
