// A real PostgreSQL server for the fleet tests: Debian's own (the postgresql
// package; `make test` installs it), made with initdb in a temporary
// directory and started on a free 127.0.0.1 port, run as an unprivileged user
// (nobody) when the tests run as root, as PostgreSQL refuses root. Password
// authentication (scram-sha-256) for every connection, as a real server has.
// One server for the whole test run (`shared()`, stopped when the tests exit),
// and a database of its own for each test (`makeDatabase()`).
#if canImport(Glibc)
    import Glibc
#endif

public final class TestPostgres: @unchecked Sendable {
    /// The superuser that initdb makes, and its password.
    public static let admin = "tokenrun_admin"
    public static let adminPassword = "admin-pw-5ecret"
    /// The least-privileged role the fleet's hosts use (README's grant statements), and its password.
    public static let fleetRole = "tokenrun_fleet"
    public static let fleetPassword = "fleet-pw-5ecret"

    public let port: Int
    /// A directory of its own (0755, so the server's user can reach its data under it).
    public let root: String
    let bin: String
    let asUser: String?
    private var process: RunningProcess?
    private let sandbox = CLISandbox()

    public enum PostgresError: Error, CustomStringConvertible {
        case notInstalled
        case failed(String)

        public var description: String {
            switch self {
            case .notInstalled: "no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): run `make test` (it installs postgresql)"
            case .failed(let why): "PostgreSQL: \(why)"
            }
        }
    }

    /// The newest /usr/lib/postgresql/N/bin with initdb in it.
    static func binDirectory() -> String? {
        let versions = directoryNames("/usr/lib/postgresql").compactMap(Int.init).sorted()
        for version in versions.reversed() where access("/usr/lib/postgresql/\(version)/bin/initdb", X_OK) == 0 {
            return "/usr/lib/postgresql/\(version)/bin"
        }
        return nil
    }

    /// Makes and starts a server with the tokenrun database and the fleet's role, granted what
    /// the README says (`grants`, run as the admin after `tokenrun vault init` made the tables,
    /// is the test's to run: see `grantFleetRole`).
    public init() throws {
        guard let bin = Self.binDirectory() else { throw PostgresError.notInstalled }
        self.bin = bin
        asUser = geteuid() == 0 ? "nobody" : nil
        var template = Array("/tmp/tokenrun-pg-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw PostgresError.failed("mkdtemp")
        }
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        port = TestProxy.freePort()
        chmod(root, 0o755)
        let passwordFile = root + "/pw"
        sandbox.write(path: passwordFile, bytes: Array((Self.adminPassword + "\n").utf8), mode: 0o644)
        if let asUser, let user = getpwnam(asUser) {
            chown(root, user.pointee.pw_uid, user.pointee.pw_gid)
            chown(passwordFile, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        let made = run(
            bin + "/initdb",
            [
                "-D", root + "/data", "-U", Self.admin, "--pwfile=" + passwordFile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync",
                "--no-instructions",
            ])
        guard made.status == 0 else { throw PostgresError.failed("initdb: \(made.all)") }
        unlink(passwordFile)
        try start()
        try admin("CREATE ROLE \(Self.fleetRole) LOGIN PASSWORD '\(Self.fleetPassword)'")
    }

    nonisolated(unsafe) static var instance: TestPostgres?
    static let lock = NSLockLike()

    /// The test run's server, made on first use; stopped when the test process exits.
    public static func shared() throws -> TestPostgres {
        lock.lock()
        defer { lock.unlock() }
        if let instance { return instance }
        let made = try TestPostgres()
        instance = made
        atexit {
            guard let server = TestPostgres.instance else { return }
            server.stop()
            _ = system("rm -rf '\(server.root)'")
        }
        return made
    }

    /// A new empty database of its own, for one test.
    public func makeDatabase() throws -> TestDatabase {
        let name = "tokenrun_\(UInt32.random(in: 0...UInt32.max))"
        try admin("CREATE DATABASE \(name)")
        return TestDatabase(server: self, name: name)
    }

    deinit {
        stop()
        _ = system("rm -rf '\(root)'")
    }

    /// A command line, as the server's user when the tests are root.
    func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) -> CLIResult {
        if let asUser {
            return sandbox.run(["-u", asUser, "--", program] + arguments, environment: environment, program: "/sbin/runuser")
        }
        return sandbox.run(arguments, environment: environment, program: program)
    }

    /// Starts the server (again, after `stop`) and waits until it accepts connections.
    public func start() throws {
        guard process == nil else { return }
        let arguments = [
            "-D", root + "/data", "-p", "\(port)", "-k", root, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "max_connections=200", "-c", "log_connections=on",
        ]
        let started =
            asUser.map { sandbox.start(["-u", $0, "--", bin + "/postgres"] + arguments, program: "/sbin/runuser") }
            ?? sandbox.start(arguments, program: bin + "/postgres")
        for _ in 0..<300 {
            if let exited = started.poll() { throw PostgresError.failed("the server exited: \(exited.all)") }
            let ready = sandbox.run(["-h", "127.0.0.1", "-p", "\(port)", "-q"], program: bin + "/pg_isready")
            if ready.status == 0 {
                process = started
                return
            }
            usleep(50_000)
        }
        started.signal(SIGKILL)
        throw PostgresError.failed("the server did not start: \(started.wait().all)")
    }

    /// What earlier runs of the server logged (before a `stop`).
    private var earlierLog = ""

    /// Everything the server logged (its standard error), across restarts.
    public var log: String { earlierLog + (process?.stderrSoFar ?? "") }

    /// How many connections to `database` the server has let in so far (log_connections).
    public func connections(to database: String) -> Int {
        log.split(separator: "\n").filter { line in
            line.contains("connection authorized") && (line.contains("database=\(database) ") || line.hasSuffix("database=\(database)"))
        }.count
    }

    /// Stops the server (a fast shutdown: open connections are closed). The signal goes to
    /// the postmaster itself (its pid is in postmaster.pid), not to runuser.
    public func stop() {
        guard let process else { return }
        self.process = nil
        defer { earlierLog += process.stderrSoFar }
        let postmaster = readText(root + "/data/postmaster.pid")?.split(separator: "\n").first.flatMap { pid_t($0) }
        if let postmaster { kill(postmaster, SIGINT) } else { process.signal(SIGINT) }
        for _ in 0..<200 {
            if process.poll() != nil, postmaster.map({ kill($0, 0) != 0 }) ?? true { return }
            usleep(50_000)
        }
        if let postmaster { kill(postmaster, SIGKILL) }
        process.signal(SIGKILL)
        _ = process.wait()
    }

    /// Runs SQL with psql as the admin, in `database`; its output (unaligned, tuples only).
    @discardableResult
    public func admin(_ sql: String, database: String = "postgres") throws -> String {
        let result = sandbox.run(
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.admin, "-d", database, "-c",
                sql,
            ],
            environment: ["PGPASSWORD": Self.adminPassword], program: bin + "/psql")
        guard result.status == 0 else { throw PostgresError.failed("psql \(sql): \(result.all)") }
        return result.stdout
    }

    /// The least privileges a fleet's hosts need: the README's ```sql block, as it stands there.
    public static var grants: String {
        let readme = readText(TestProvider.repository + "/README.md") ?? ""
        guard let start = readme.firstRange(of: "```sql\n"), let end = readme[start.upperBound...].firstRange(of: "```") else { return "" }
        return String(readme[start.upperBound..<end.lowerBound])
    }

    /// pg_dump of `database`, as plain SQL.
    public func dump(_ database: String) throws -> String {
        let result = sandbox.run(
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.admin, database], environment: ["PGPASSWORD": Self.adminPassword],
            program: bin + "/pg_dump")
        guard result.status == 0 else { throw PostgresError.failed("pg_dump: \(result.all)") }
        return result.stdout
    }
}

/// One test's database on the shared server.
public struct TestDatabase: Sendable {
    public let server: TestPostgres
    public let name: String

    public var port: Int { server.port }

    /// postgresql://USER:PASSWORD@127.0.0.1:PORT/NAME
    public func url(user: String = TestPostgres.fleetRole, password: String? = TestPostgres.fleetPassword) -> String {
        "postgresql://\(user)\(password.map { ":" + $0 } ?? "")@127.0.0.1:\(server.port)/\(name)"
    }

    /// The admin's URL (may create tables: what `tokenrun vault init` needs once).
    public var adminURL: String { url(user: TestPostgres.admin, password: TestPostgres.adminPassword) }

    /// SQL as the admin in this database; psql's output.
    @discardableResult
    public func admin(_ sql: String) throws -> String { try server.admin(sql, database: name) }

    /// Grants the fleet's role what the README says, on the tables `tokenrun vault init` made.
    public func grantFleetRole() throws {
        precondition(TestPostgres.grants.contains("GRANT"), "README.md has no ```sql block of grants")
        try admin(TestPostgres.grants)
    }

    public func dump() throws -> String { try server.dump(name) }

    /// How many connections to this database the server has let in so far.
    public var connections: Int { server.connections(to: name) }
}

/// A lock without Foundation.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
