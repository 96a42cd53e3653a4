// libpq, wrapped once for tokenrun-pg: one connection, statements with text
// parameters and text results, nothing else. Built as Embedded Swift (no
// Foundation, no runtime metadata), like tokenrun-http over libcurl. The
// connection string is the user's, as libpq reads it: a postgres:// or
// postgresql:// URL or key=value pairs, completed from PG* variables,
// ~/.pgpass (PGPASSFILE), service files (PGSERVICE) and sslmode, as psql does.
// No libpq type leaves this file.
import CPostgres

/// Why a statement or the connection failed, in libpq's words.
public struct PostgresFailure: Error {
    public enum Kind: Sendable {
        /// The server could not be reached, or refused the connection or its credentials.
        case connect
        /// The server ran the statement and refused it (see `sqlState`).
        case statement
        /// The connection broke while a statement ran.
        case connectionLost
    }

    public var kind: Kind
    public var message: String
    /// The five-character SQLSTATE of a refused statement ("40P01" deadlock, "55P03" lock timeout…).
    public var sqlState: String?

    public init(kind: Kind, message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }
}

/// What a statement returned: its rows (text values, nil for NULL) and the
/// number of rows it touched.
public struct PostgresRows {
    public var rows: [[String?]]
    public var affected: Int
    /// The command tag: "COMMIT", or "ROLLBACK" for a COMMIT of a transaction that had failed.
    public var command: String
}

/// One open connection; closed when the value goes away.
public final class PostgresConnection {
    private let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }

    deinit { PQfinish(handle) }

    /// Connects with the user's connection string. `connectTimeout` (seconds) and the
    /// application name apply only when the string does not set its own.
    public static func connect(_ conninfo: String, connectTimeout: Int) -> Result<PostgresConnection, PostgresFailure> {
        // Earlier keywords are defaults: the expanded dbname (the user's string) overrides them.
        let keywords = ["connect_timeout", "fallback_application_name", "dbname"]
        let values = ["\(connectTimeout)", "tokenrun", conninfo]
        let made = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
        guard let made else { return .failure(PostgresFailure(kind: .connect, message: "out of memory")) }
        let connection = PostgresConnection(handle: made)
        guard PQstatus(made) == CONNECTION_OK else {
            return .failure(PostgresFailure(kind: .connect, message: connection.errorMessage))
        }
        // Server notices (a CREATE … IF NOT EXISTS that found the table, say) are not for the user.
        PQsetNoticeProcessor(made, { _, _ in }, nil)
        return .success(connection)
    }

    /// The server's version as libpq reports it (150004 for 15.4).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Runs one statement with `$1`, `$2`… bound to `parameters` (nil binds NULL).
    public func execute(_ sql: String, _ parameters: [String?] = []) -> Result<PostgresRows, PostgresFailure> {
        let present = parameters.map { $0 ?? "" }
        let result: OpaquePointer? = withCStrings(present) { pointers in
            var bound = Array(UnsafeBufferPointer(start: pointers, count: parameters.count))
            for (i, parameter) in parameters.enumerated() where parameter == nil { bound[i] = nil }
            return bound.withUnsafeBufferPointer { PQexecParams(handle, sql, Int32(parameters.count), nil, $0.baseAddress, nil, nil, 0) }
        }
        guard let result else {
            return .failure(PostgresFailure(kind: .connectionLost, message: errorMessage))
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let lost = PQstatus(handle) != CONNECTION_OK
            let message = String(cString: PQresultErrorMessage(result))
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            return .failure(
                PostgresFailure(kind: lost ? .connectionLost : .statement, message: Self.trimmed(message), sqlState: state))
        }
        var rows: [[String?]] = []
        let columns = PQnfields(result)
        for row in 0..<PQntuples(result) {
            var values: [String?] = []
            for column in 0..<columns {
                values.append(PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column)))
            }
            rows.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return .success(PostgresRows(rows: rows, affected: affected, command: String(cString: PQcmdStatus(result))))
    }

    private var errorMessage: String { Self.trimmed(String(cString: PQerrorMessage(handle))) }

    /// libpq's messages end in a newline and may run over several lines.
    static func trimmed(_ message: String) -> String {
        var lines = message.split(separator: "\n").map { String($0) }
        while let last = lines.last, last.allSatisfy({ $0 == " " }) { lines.removeLast() }
        return lines.joined(separator: "; ")
    }

    /// The library's version (150004 for 15.4).
    public static var libraryVersion: Int { Int(PQlibVersion()) }
}

/// Calls `body` with a C array of `strings` (each NUL-terminated, then a NULL),
/// valid only inside it. The copies are zeroed before they are freed: they held a
/// connection string and parameters (a password, sealed records).
private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    var copies: [UnsafeMutableBufferPointer<CChar>] = []
    for string in strings {
        let bytes = Array(string.utf8)
        let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, byte) in bytes.enumerated() { copy[i] = CChar(bitPattern: byte) }
        copy[bytes.count] = 0
        copies.append(copy)
    }
    defer {
        for copy in copies {
            copy.update(repeating: 0)
            copy.deallocate()
        }
    }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0.baseAddress) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
