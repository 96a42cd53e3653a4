// The loopback redirect of a native-app login (RFC 8252 §7.3): a tiny HTTP
// server bound to 127.0.0.1 only, on a free port or the profile's fixed one,
// that waits for the browser to bring back `code` (or `error`) and `state`.
// Requests without either (a favicon, a preconnect) get a 404 and the wait
// goes on. The browser's connection is held open until the caller knows how
// the login ended, so the page it shows tells the truth.
#if canImport(Glibc)
    import Glibc
#endif

/// A listening loopback socket for one login.
public final class LoopbackRedirect {
    public let port: Int
    private let listener: Int32
    private var clients: [Int32: [UInt8]] = [:]

    /// What came back on the redirect.
    public struct Callback {
        public let parameters: [String: String]
        let connection: Int32

        public var code: String? { parameters["code"] }
        public var state: String? { parameters["state"] }
        public var error: String? { parameters["error"] }
        public var errorDescription: String? { parameters["error_description"].map(TokenEndpoint.sanitize) }
    }

    /// Why no callback arrived.
    public enum Failure: Error, Equatable {
        case portInUse(Int)
        case cannotListen(String)
        case timedOut
    }

    /// Binds 127.0.0.1:`port` (0 picks a free one).
    public init(port: Int = 0) throws(Failure) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotListen(String(cString: strerror(errno))) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw .portInUse(port) }
            throw .cannotListen(String(cString: strerror(code)))
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    /// Connections handed out in a Callback and not yet finished.
    private var unfinished: Set<Int32> = []

    deinit {
        for fd in clients.keys { close(fd) }
        for fd in unfinished { close(fd) }
        close(listener)
    }

    /// The redirect URI of the authorization request. "localhost" has no path, as
    /// Microsoft's registrations of http://localhost expect (any port matches).
    public func redirectURI(host: String = "127.0.0.1") -> String {
        host == "localhost" ? "http://localhost:\(port)" : "http://\(host):\(port)/"
    }

    /// Waits until a request carries `code` or `error`, or `deadline` (monotonic ms) passes.
    public func waitForCallback(deadline: Int64, now: () -> Int64) throws(Failure) -> Callback {
        while true {
            let left = deadline - now()
            if left <= 0 { throw .timedOut }
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            fds += clients.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1000)))
            if ready < 0 && errno != EINTR { throw .cannotListen(String(cString: strerror(errno))) }
            if ready <= 0 { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == listener {
                    let client = accept(listener, nil, nil)
                    if client >= 0 {
                        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                        clients[client] = []
                    }
                } else if let callback = readRequest(entry.fd) {
                    return callback
                }
            }
        }
    }

    /// Reads what `fd` sent; answers and drops requests that are not the callback.
    private func readRequest(_ fd: Int32) -> Callback? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n <= 0 {
            drop(fd)
            return nil
        }
        clients[fd, default: []] += chunk[0..<n]
        let buffer = clients[fd]!
        guard let end = Self.headerEnd(buffer) else {
            if buffer.count > 16384 { respond(fd, status: 431, page: Self.page("Request too large", "")) }
            return nil
        }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[0] == "GET" else {
            respond(fd, status: 405, page: Self.page("Not supported", "tokenrun only waits for the login redirect here."))
            return nil
        }
        let target = parts[1]
        let query = target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) } ?? ""
        var parameters: [String: String] = [:]
        for (key, value) in FormEncoding.decode(query) where parameters[key] == nil { parameters[key] = value }
        guard parameters["code"] != nil || parameters["error"] != nil else {
            respond(fd, status: 404, page: Self.page("Waiting for the login", "This is tokenrun's login redirect; nothing here."))
            return nil
        }
        clients[fd] = nil
        unfinished.insert(fd)
        return Callback(parameters: parameters, connection: fd)
    }

    /// Answers the browser that brought the callback and closes its connection.
    public func finish(_ callback: Callback, success: Bool, title: String, message: String) {
        guard unfinished.remove(callback.connection) != nil else { return }
        respond(callback.connection, status: success ? 200 : 400, page: Self.page(title, message), known: false)
    }

    private func respond(_ fd: Int32, status: Int, page: String, known: Bool = true) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 431: "Too Large"][status] ?? "Error"
        let body = Array(page.utf8)
        let head =
            "HTTP/1.1 \(status) \(reason)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
            + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        if known { drop(fd) } else { close(fd) }
    }

    private func drop(_ fd: Int32) {
        clients[fd] = nil
        close(fd)
    }

    package static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// A small self-contained page; `title` and `message` are escaped.
    static func page(_ title: String, _ message: String) -> String {
        func escape(_ text: String) -> String {
            text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
        }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>tokenrun: \(escape(title))</title>
            <style>body{font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}</style></head>
            <body><h1>\(escape(title))</h1><p>\(escape(message))</p></body></html>
            """
    }
}
