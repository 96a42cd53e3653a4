import Testing
@testable import TokenrunLaunch
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("private token files")
struct PrivateFilesTests {
    let dir = TemporaryDirectory()
    var base: String { dir.file("runtime/tokenrun") }

    func mode(_ path: String) throws -> UInt32? { try FileSystem.status(path)?.mode }

    /// Makes `base/name` holding one file, as a launch would have left it.
    func leftover(_ name: String) throws -> String {
        let path = base + "/" + name
        try FileSystem.makeDirectories(path)
        try FileSystem.createExclusive(path + "/acme.token", bytes: Array("stale-token".utf8))
        return path
    }

    /// A PID that no process has (2^22 - 1 is above the usual pid_max); nil if it happens to be in use.
    static var deadPID: Int32? {
        let pid: Int32 = (1 << 22) - 1
        return kill(pid, 0) == 0 || errno != ESRCH ? nil : pid
    }

    @Test("the launch directory is 0700 under a 0700 base, named run-PID-RANDOM; files are 0600")
    func modes() throws {
        let files = try PrivateFiles(base: base)
        defer { files.remove() }
        #expect(try mode(base) == 0o700)
        #expect(try mode(files.directory) == 0o700)
        #expect(files.directory.hasPrefix(base + "/run-\(getpid())-"))
        let path = try files.write(name: "acme.token", contents: "ya29.token\n")
        #expect(path == files.directory + "/acme.token")
        #expect(try mode(path) == 0o600)
        #expect(try FileSystem.readFile(path) == Array("ya29.token\n".utf8))
    }

    @Test("two launches get different directories")
    func distinct() throws {
        let a = try PrivateFiles(base: base)
        let b = try PrivateFiles(base: base)
        defer {
            a.remove()
            b.remove()
        }
        #expect(a.directory != b.directory)
    }

    @Test("a file name is written once; a second write of it fails")
    func exclusive() throws {
        let files = try PrivateFiles(base: base)
        defer { files.remove() }
        _ = try files.write(name: "t", contents: "1")
        #expect(throws: TokenrunError.self) { try files.write(name: "t", contents: "2") }
    }

    @Test("remove() deletes the directory and its files, and may be called twice")
    func remove() throws {
        let files = try PrivateFiles(base: base)
        let path = try files.write(name: "acme.token", contents: "t")
        files.remove()
        #expect(!FileSystem.exists(path))
        #expect(!FileSystem.exists(files.directory))
        files.remove()
        #expect(FileSystem.exists(base))
    }

    @Test("a base readable by others is tightened to 0700")
    func tightensBase() throws {
        try FileSystem.makeDirectories(base)
        chmod(base, 0o755)
        let files = try PrivateFiles(base: base)
        defer { files.remove() }
        #expect(try mode(base) == 0o700)
    }

    @Test("sweep removes a dead launch's directory and keeps a live one's and anything else")
    func sweep() throws {
        guard let dead = Self.deadPID else { return }  // that PID exists here: nothing to test
        let deadDirectory = try leftover("run-\(dead)-abc123")
        let liveDirectory = try leftover("run-\(getpid())-def456")
        let unrelated = try leftover("other-\(dead)-x")
        let malformed = try leftover("run-notapid-x")
        let zero = try leftover("run-0-x")
        PrivateFiles.sweep(base)
        #expect(!FileSystem.exists(deadDirectory))
        #expect(FileSystem.exists(liveDirectory + "/acme.token"))
        #expect(FileSystem.exists(unrelated))
        #expect(FileSystem.exists(malformed))
        #expect(FileSystem.exists(zero))
    }

    @Test("a new launch sweeps dead launches' leftovers first")
    func sweepOnInit() throws {
        guard let dead = Self.deadPID else { return }
        let deadDirectory = try leftover("run-\(dead)-0f0f")
        let files = try PrivateFiles(base: base)
        defer { files.remove() }
        #expect(!FileSystem.exists(deadDirectory))
        #expect(FileSystem.exists(files.directory))
    }

    @Test("the base is $XDG_RUNTIME_DIR/tokenrun, else tokenrun-UID under $TMPDIR")
    func basePath() {
        #expect(
            PrivateFiles.base(paths: Paths(environment: ["HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/1000"])) == "/run/user/1000/tokenrun")
        #expect(PrivateFiles.base(paths: Paths(environment: ["HOME": "/h", "TMPDIR": "/var/tmp"])) == "/var/tmp/tokenrun-\(getuid())")
        #expect(PrivateFiles.base(paths: Paths(environment: ["HOME": "/h"])) == "/tmp/tokenrun-\(getuid())")
        #expect(PrivateFiles.base(paths: Paths(environment: ["HOME": "/h", "XDG_RUNTIME_DIR": "relative"])) == "/tmp/tokenrun-\(getuid())")
    }
}
