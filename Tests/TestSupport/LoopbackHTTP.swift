// A minimal HTTP/1.1 client for the tests' control calls to the provider on
// 127.0.0.1 (plain http, Connection: close). Not used by tokenrun itself.
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

public enum LoopbackHTTP {
    public struct Response: Sendable {
        public let status: Int
        public let body: String
        public var headers: [(String, String)] = []

        /// The first header of that name, case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// Sends one request to `http://127.0.0.1:PORT/path`.
    public static func request(_ method: String, _ url: String, json: String? = nil, headers: [(String, String)] = []) -> Response? {
        guard url.hasPrefix("http://127.0.0.1:") else { return nil }
        let rest = url.dropFirst("http://127.0.0.1:".count)
        let portText = rest.prefix { $0.isNumber }
        guard let port = UInt16(portText) else { return nil }
        let path = String(rest.dropFirst(portText.count)).isEmpty ? "/" : String(rest.dropFirst(portText.count))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let body = json ?? ""
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if json != nil { request += "Content-Type: application/json\r\n" }
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, 0) }
            if n <= 0 { return nil }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let headerEnd = text.firstRange(of: "\r\n\r\n") else { return nil }
        let lines = text[..<headerEnd.lowerBound].split(separator: "\r\n")
        let parts = (lines.first ?? "").split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        return Response(status: status, body: String(text[headerEnd.upperBound...]), headers: headers)
    }
}
