// tokenrun's side of tokenrun-pg (Sources/tokenrun-pg/main.swift): one database
// connection in a helper process, a statement per line, for as long as this
// session lives. The helper holds the connection, so a refresh lease it holds
// (a row lock in an open transaction) ends with it: when tokenrun exits,
// crashes or is SIGKILLed, the helper's stdin closes or its parent-death signal
// fires, the connection drops and the server rolls the transaction back.
//
// The URL reaches the helper on its standard input only, and the helper's
// environment holds only libpq's own variables (PG*: PGPASSFILE, PGSERVICE,
// PGSSLROOTCERT…) and HOME (for ~/.pgpass and ~/.pg_service.conf). Whatever
// the server or libpq says is scrubbed of the URL's secrets before it is shown.
import Synchronization
import TokenrunSodium
import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One open connection to a shared vault's database, through tokenrun-pg.
public final class PostgresSession: Sendable {
    public let url: SharedVaultURL
    let pid: pid_t
    let requests: Int32
    let answers: Int32
    /// Bytes read past the last answer line.
    let pending = Mutex<[UInt8]>([])
    let closed = Mutex(false)
    /// How long an answer may take beyond what a statement itself waits for.
    let timeout: Double

    init(url: SharedVaultURL, pid: pid_t, requests: Int32, answers: Int32, timeout: Double) {
        self.url = url
        self.pid = pid
        self.requests = requests
        self.answers = answers
        self.timeout = timeout
    }

    deinit { close() }

    /// What reaches the helper's environment: libpq's variables and HOME, nothing else.
    static func helperEnvironment(_ environment: [String: String]) -> [String: String] {
        environment.filter { $0.key.hasPrefix("PG") || ["HOME", "SSL_CERT_FILE", "SSL_CERT_DIR"].contains($0.key) }
    }

    /// Starts tokenrun-pg and connects. `timeout` (seconds) bounds the connection and each answer.
    public static func open(_ url: SharedVaultURL, environment: [String: String], timeout: Double = 10) throws -> PostgresSession {
        let helper = ChildProcess.ownProgram("tokenrun-pg", environment: environment)
        // Requests go over a socket, so that writing to a helper that has exited is EPIPE
        // (send with MSG_NOSIGNAL), not a SIGPIPE that would end tokenrun mid-refresh.
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &toChild) == 0 else {
            throw TokenrunError.databaseHelperMissing(path: helper)
        }
        guard pipe(&fromChild) == 0 else {
            Glibc.close(toChild[0])
            Glibc.close(toChild[1])
            throw TokenrunError.databaseHelperMissing(path: helper)
        }
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = ChildProcess.spawnOwnProgram(
            helper, environment: helperEnvironment(environment), stdin: toChild[0], stdout: fromChild[1])
        Glibc.close(toChild[0])
        Glibc.close(fromChild[1])
        guard let pid = spawned else {
            Glibc.close(toChild[1])
            Glibc.close(fromChild[0])
            throw TokenrunError.databaseHelperMissing(path: helper)
        }
        let session = PostgresSession(url: url, pid: pid, requests: toChild[1], answers: fromChild[0], timeout: timeout)
        let opening =
            "{\"connect\":\(Quoting.json(url.text)),\"connectTimeout\":\(Int(timeout.rounded(.up))),\"parent\":\(getpid())}"
        let answer = try session.exchange(opening, waiting: timeout + 5)
        if case .string(let kind)? = answer["error"] {
            let message = session.message(answer)
            session.close()
            throw kind == "connect" && Self.isRefusal(message)
                ? TokenrunError.sharedVaultRefused(
                    location: url.shown, reason: message,
                    hint: "check the user and password: in the URL, ~/.pgpass or PGPASSFILE (psql reads the same)")
                : TokenrunError.sharedVaultUnavailable(location: url.shown, reason: message)
        }
        return session
    }

    /// A connection the server refused for who is asking (not for being down or unreachable).
    static func isRefusal(_ message: String) -> Bool {
        ["password authentication failed", "no password supplied", "does not exist", "pg_hba.conf", "permission denied"]
            .contains { message.contains($0) }
    }

    /// The server's version, as it reports it ("15.4").
    public var serverVersion: String? {
        (try? execute("SHOW server_version"))?.first?.first ?? nil
    }

    /// Runs one statement; its rows, each value text or nil for NULL. `waiting` is how long the
    /// statement itself may wait (a lock), on top of the session's timeout.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = [], waiting: Double = 0) throws -> [[String?]] {
        let answer = try statement(sql, parameters, waiting: waiting)
        if let (error, _) = failure(answer) { throw error }
        guard case .array(let rows)? = answer["rows"] else {
            throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "tokenrun-pg gave no readable answer")
        }
        return rows.map { row in
            guard case .array(let values) = row else { return [] }
            return values.map { value in
                if case .string(let text) = value { return text }
                return nil
            }
        }
    }

    /// Sends one statement; the helper's answer.
    func statement(_ sql: String, _ parameters: [String?], waiting: Double) throws -> [String: JSONValue] {
        let params = parameters.map { $0.map(Quoting.json) ?? "null" }.joined(separator: ",")
        return try exchange("{\"sql\":\(Quoting.json(sql)),\"params\":[\(params)]}", waiting: timeout + waiting)
    }

    /// COMMIT, checked: a transaction that had failed answers ROLLBACK, which is a failure here.
    public func commit() throws {
        let answer = try statement("COMMIT", [], waiting: 0)
        if let (error, _) = failure(answer) { throw error }
        guard case .string("COMMIT")? = answer["command"] else {
            throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "the transaction failed and was rolled back")
        }
    }

    /// lock_timeout ran out.
    static let lockNotAvailable = "55P03"

    /// Runs a statement that waits for a lock: false when lock_timeout ran out first.
    public func executeUnlessLocked(_ sql: String, _ parameters: [String?] = [], waiting: Double) throws -> Bool {
        let answer = try statement(sql, parameters, waiting: waiting)
        guard let (error, state) = failure(answer) else { return true }
        if state == Self.lockNotAvailable { return false }
        throw error
    }

    /// A failed statement's answer as the error to throw, with its SQLSTATE; nil for a success.
    /// A lost connection also ends the session (the helper exits after saying so).
    func failure(_ answer: [String: JSONValue]) -> (TokenrunError, String?)? {
        guard case .string(let kind)? = answer["error"] else { return nil }
        var state: String?
        if case .string(let given)? = answer["sqlstate"] { state = given }
        if kind == "connection_lost" { close() }
        return (statementError(kind: kind, message: message(answer), sqlState: state), state)
    }

    /// A failed statement as the error to show: a broken connection is temporary; a refusal
    /// (privileges, a missing table) is configuration, with its fix.
    func statementError(kind: String, message: String, sqlState: String?) -> TokenrunError {
        if kind == "connection_lost" || kind == "connect" { return .sharedVaultUnavailable(location: url.shown, reason: message) }
        switch sqlState {
        case "42501"?:
            return .sharedVaultRefused(
                location: url.shown, reason: message,
                hint: "grant tokenrun's role what the README's fleet mode lists (SELECT, INSERT, UPDATE on its tables)")
        case "42P01"?:
            return .sharedVaultRefused(
                location: url.shown, reason: "it has no tokenrun tables (\(message))",
                hint: "create them once, from any host: TOKENRUN_VAULT_URL=… tokenrun vault init")
        case let state? where state.hasPrefix("08") || state.hasPrefix("57") || state.hasPrefix("53") || state == Self.lockNotAvailable:
            return .sharedVaultUnavailable(location: url.shown, reason: message)
        default:
            return .sharedVaultRefused(location: url.shown, reason: message, hint: "run tokenrun vault status, and see the database's log")
        }
    }

    /// The answer's message, scrubbed of the URL's secrets, on one line.
    func message(_ answer: [String: JSONValue]) -> String {
        guard case .string(let text)? = answer["message"] else { return "no detail" }
        let flat = text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).joined(separator: " ")
        return url.scrubbed(flat)
    }

    /// Sends one request line and reads one answer line. A session whose helper is gone
    /// (its connection lost, a timeout) answers nothing more: its descriptors are closed.
    func exchange(_ request: String, waiting seconds: Double) throws -> [String: JSONValue] {
        guard !closed.withLock({ $0 }) else {
            throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "the connection to the database was lost")
        }
        var bytes = Array((request + "\n").utf8)
        defer { Sodium.zero(&bytes) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(requests, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                close()
                throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "tokenrun-pg has exited")
            }
            offset += n
        }
        var line = try readLine(deadline: Monotonic.milliseconds() + Int64(seconds * 1000))
        defer { Sodium.zero(&line) }
        guard case .object(let answer)? = JSONValue.parse(line) else {
            throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "tokenrun-pg gave no readable answer")
        }
        return answer
    }

    func readLine(deadline: Int64) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let line: [UInt8]? = pending.withLock { buffer in
                guard let end = buffer.firstIndex(of: 0x0A) else { return nil }
                let line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                return line
            }
            if let line { return line }
            let left = deadline - Monotonic.milliseconds()
            if left <= 0 {
                kill(pid, SIGKILL)  // its connection goes with it: a lock it held is released
                close()
                throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "no answer from the database in time")
            }
            var poller = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 60_000)))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                close()
                throw TokenrunError.sharedVaultUnavailable(location: url.shown, reason: "tokenrun-pg has exited")
            }
            pending.withLock { $0 += chunk[0..<n] }
        }
    }

    /// Ends the session: the helper sees the end of its input, closes the connection (an
    /// open transaction is rolled back) and exits.
    public func close() {
        let first = closed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        Glibc.close(requests)
        Glibc.close(answers)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
