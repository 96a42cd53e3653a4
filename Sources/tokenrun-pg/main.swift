// tokenrun-pg: tokenrun's database helper for a fleet's shared vault. Reads
// requests from tokenrun on stdin, one JSON object per line, runs them on one
// libpq connection and answers each with one line on stdout:
//
//     {"connect":"postgres://…","connectTimeout":5,"parent":PID}
//         → {"ok":true,"server":150004}       or {"error":"connect","message":…}
//     {"sql":"SELECT …","params":["a",null]}
//         → {"rows":[["x",null]],"affected":1,"command":"SELECT 1"} or {"error":"statement","message":…,"sqlstate":"55P03"}
//
// It never prints what it sends or receives beyond these answers, and holds
// only sealed records (the database never sees a token or a key). It ends at
// the end of its input, and with the tokenrun that started it (the parent-death
// signal): its connection closes, so the server rolls back an open transaction
// and a refresh lease held by tokenrun is released for the next host.
// Embedded Swift: a small program that starts fast.
import TokenrunHelperKit
import TokenrunPostgres

func send(_ text: String) {
    var bytes = Array((text + "\n").utf8)
    HelperProcess.write(bytes, to: 1)
    HelperProcess.zero(&bytes)
}

func failure(_ failure: PostgresFailure) -> String {
    let kind: String
    switch failure.kind {
    case .connect: kind = "connect"
    case .statement: kind = "statement"
    case .connectionLost: kind = "connection_lost"
    }
    var text = "{\"error\":" + HelperJSON.quoted(kind) + ",\"message\":" + HelperJSON.quoted(failure.message)
    if let state = failure.sqlState { text += ",\"sqlstate\":" + HelperJSON.quoted(state) }
    return text + "}"
}

func rows(_ result: PostgresRows) -> String {
    let rendered = result.rows.map { row in
        "[" + row.map { $0.map(HelperJSON.quoted) ?? "null" }.joined(separator: ",") + "]"
    }
    return "{\"rows\":[" + rendered.joined(separator: ",") + "],\"affected\":\(result.affected),\"command\":"
        + HelperJSON.quoted(result.command) + "}"
}

/// The statement of one request line, or nil when it is not one.
func statement(_ json: HelperJSON) -> (String, [String?])? {
    guard let sql = json["sql"]?.string else { return nil }
    var parameters: [String?] = []
    for value in json["params"]?.array ?? [] {
        switch value {
        case .string(let text): parameters.append(text)
        case .null: parameters.append(nil)
        default: return nil
        }
    }
    return (sql, parameters)
}

func main() -> Never {
    HelperProcess.harden()
    HelperProcess.handleCommandLine(
        name: "tokenrun-pg",
        version: "tokenrun-pg \(generatedVersion) (commit \(generatedCommit)), libpq \(PostgresConnection.libraryVersion)",
        about: "tokenrun-pg is tokenrun's database helper; tokenrun starts it when a fleet's shared vault is used.\n")
    var lines = HelperProcess.LineReader(limit: 16 << 20)
    guard var first = lines.next() else { HelperProcess.exit(0) }
    let opening = HelperJSON.parse(first)
    HelperProcess.zero(&first)
    guard let opening, let conninfo = opening["connect"]?.string else {
        send("{\"error\":\"protocol\",\"message\":\"tokenrun-pg could not read its request\"}")
        HelperProcess.exit(1)
    }
    if let parent = opening["parent"]?.number, HelperProcess.parent != Int32(parent) {
        HelperProcess.exit(1)  // tokenrun is gone: nobody would read the answers
    }
    let timeout = Int(opening["connectTimeout"]?.number ?? 10)
    let connection: PostgresConnection
    switch PostgresConnection.connect(conninfo, connectTimeout: max(1, timeout)) {
    case .success(let made): connection = made
    case .failure(let why):
        send(failure(why))
        HelperProcess.exit(0)
    }
    send("{\"ok\":true,\"server\":\(connection.serverVersion)}")
    while var line = lines.next() {
        let parsed = HelperJSON.parse(line)
        HelperProcess.zero(&line)
        guard let parsed, let (sql, parameters) = statement(parsed) else {
            send("{\"error\":\"protocol\",\"message\":\"tokenrun-pg could not read a request\"}")
            continue
        }
        switch connection.execute(sql, parameters) {
        case .success(let result): send(rows(result))
        case .failure(let why):
            send(failure(why))
            if why.kind == .connectionLost { HelperProcess.exit(0) }
        }
    }
    lines.clear()
    HelperProcess.exit(0)
}

main()
