// The per-launch token endpoint of `run --serve`: for as long as
// the child lives, a small HTTP server on 127.0.0.1 (never another address)
// answers with a fresh token on every request, refreshing through the same
// single-flight path as every launch. Every request must carry the launch's
// random secret — as `Authorization: Bearer SECRET`, or as the first path
// segment, which is how Google's client libraries carry it: they are given
// GCE_METADATA_HOST=127.0.0.1:PORT/SECRET and speak the metadata-server
// protocol (`Metadata-Flavor: Google`), so they refresh through tokenrun with
// no code change. Tokens go only into answers to requests with the secret.
import TokenrunOAuth
import TokenrunProfiles
import TokenrunSodium
import TokenrunSupport
import TokenrunVault
#if canImport(Glibc)
    import Glibc
#endif

/// A loopback token server on its own thread.
public final class TokenServer: @unchecked Sendable {
    public let port: Int
    public let secret: String
    private let listener: Int32
    private let tokens: @Sendable (String?) throws -> (Credential, Profile)
    private var thread = pthread_t()

    /// Binds 127.0.0.1 on a free port; `tokens(profile)` gives a usable credential (nil: the first profile).
    public init(tokens: @escaping @Sendable (String?) throws -> (Credential, Profile)) throws {
        self.tokens = tokens
        secret = Base64URL.encode(try Sodium.randomBytes(24))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 32) == 0 else {
            let code = errno
            if fd >= 0 { close(fd) }
            throw TokenrunError.fileSystem(SystemCallError(operation: "bind", path: "127.0.0.1", errno: code), what: "the token server")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The variables the child gets.
    public var environment: [String: String] {
        let root = "127.0.0.1:\(port)/\(secret)"
        return [
            "TOKENRUN_TOKEN_URL": "http://127.0.0.1:\(port)/token", "TOKENRUN_TOKEN_SECRET": secret,
            "GCE_METADATA_HOST": root, "GCE_METADATA_IP": root,
        ]
    }

    /// Serves on a thread of its own until the process ends.
    public func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &thread, nil,
            { raw in
                let server = Unmanaged<TokenServer>.fromOpaque(raw!).takeRetainedValue()
                server.serve()
                return nil
            }, context)
    }

    /// Accepts connections and answers each on a thread of its own: a request whose
    /// profile is refreshing waits for that refresh (the refresh lease makes it
    /// single-flight) without holding up any other request. The threads inherit
    /// the launch's blocked signals, so the child's signals are still relayed by
    /// the main thread alone.
    func serve() {
        while true {
            let client = accept(listener, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    usleep(50_000)  // out of descriptors: let answered requests close theirs
                    continue
                }
                return
            }
            let connection = Unmanaged.passRetained(Connection(server: self, fd: client)).toOpaque()
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            var worker = pthread_t()
            let started = pthread_create(
                &worker, &attributes,
                { raw in
                    Unmanaged<Connection>.fromOpaque(raw!).takeRetainedValue().answer()
                    return nil
                }, connection)
            pthread_attr_destroy(&attributes)
            if started != 0 {
                // No thread to spare: answer here rather than drop the request.
                Unmanaged<Connection>.fromOpaque(connection).takeRetainedValue().answer()
            }
        }
    }

    /// One accepted connection, answered and closed.
    final class Connection: @unchecked Sendable {
        let server: TokenServer
        let fd: Int32

        init(server: TokenServer, fd: Int32) {
            self.server = server
            self.fd = fd
        }

        func answer() {
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let (status, headers, body) = server.respond(to: TokenServer.readHead(fd))
            TokenServer.send(fd, status: status, headers: headers, body: body)
            close(fd)
        }
    }

    /// The request line and headers, or nil.
    static func readHead(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 16384 {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            bytes += chunk[0..<n]
            if LoopbackRedirect.headerEnd(bytes) != nil { return String(decoding: bytes, as: UTF8.self) }
        }
        return nil
    }

    /// Routes one request (pure but for the token lookup).
    func respond(to head: String?) -> (Int, [(String, String)], String) {
        let google = [("Metadata-Flavor", "Google")]
        guard let head, let line = head.split(separator: "\r\n").first else { return (400, [], "bad request\n") }
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "GET" else { return (405, [], "only GET\n") }
        let target = String(parts[1])
        var path = String(target.prefix { $0 != "?" })
        let query = target.contains("?") ? String(target[target.index(after: target.firstIndex(of: "?")!)...]) : ""
        let lines = head.split(separator: "\r\n").dropFirst()
        func header(_ name: String) -> String? {
            lines.first { $0.lowercased().hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1).drop { $0 == " " }) }
        }
        let prefix = "/" + secret
        var authorized = false
        if path == prefix || path.hasPrefix(prefix + "/") {
            authorized = true
            path = String(path.dropFirst(prefix.count))
        } else if let value = header("authorization"), value.lowercased().hasPrefix("bearer ") {
            authorized = Sodium.constantTimeEqual(Array(value.dropFirst(7).utf8), Array(secret.utf8))
        }
        guard authorized else { return (401, [("WWW-Authenticate", "Bearer")], "the token server's secret is missing or wrong\n") }
        let parameters = Dictionary(FormEncoding.decode(query), uniquingKeysWith: { a, _ in a })
        let metadata = path.hasPrefix("/computeMetadata/")
        if metadata && header("metadata-flavor") != "Google" { return (403, google, "Missing Metadata-Flavor:Google header.\n") }
        if path == "" || path == "/" { return (200, google, "") }
        // Google's libraries ask for "default", then by the e-mail address they were told: one account here.
        let account = "/computeMetadata/v1/instance/service-accounts/"
        var leaf = path
        if path.hasPrefix(account) {
            let rest = path.dropFirst(account.count)
            leaf = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
        }
        do {
            switch (path.hasPrefix(account), leaf) {
            case (_, "/token"):
                let (credential, _) = try tokens(parameters["profile"])
                return (200, [("Content-Type", "application/json")] + (metadata ? google : []), Self.tokenJSON(credential))
            case (true, "/"):
                let (credential, profile) = try tokens(nil)
                let scopes = (credential.scopes.isEmpty ? profile.oauth.scopes : credential.scopes).map(Quoting.json)
                let email = Quoting.json(profile.username ?? "default")
                return (
                    200, [("Content-Type", "application/json")] + google,
                    "{\"aliases\":[\"default\"],\"email\":\(email),\"scopes\":[\(scopes.joined(separator: ","))]}"
                )
            case (true, "/email"):
                return (200, google, try tokens(nil).1.username ?? "default")
            default:
                return (404, metadata ? google : [], "not found\n")
            }
        } catch let error as TokenrunError {
            return (503, [("Content-Type", "text/plain")], "tokenrun: \(error.summary)\n")
        } catch {
            return (503, [], "tokenrun: no token\n")
        }
    }

    static func tokenJSON(_ credential: Credential) -> String {
        let now = ProcessEnvironment.now()
        let expiresIn = max(0, (credential.expiresAt ?? now + 3600) - now)
        let token = Quoting.json(credential.accessToken?.value ?? "")
        var text = "{\"access_token\":\(token),\"expires_in\":\(expiresIn),\"token_type\":\"Bearer\""
        if let expiresAt = credential.expiresAt { text += ",\"expires_at\":\(expiresAt)" }
        return text + "}"
    }

    static func send(_ fd: Int32, status: Int, headers: [(String, String)], body: String) {
        let reason =
            [200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"][status]
            ?? "Service Unavailable"
        var text = "HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.utf8.count)\r\nCache-Control: no-store\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        let bytes = Array((text + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}
