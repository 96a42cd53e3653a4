import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A plain HTTP/1.1 client standing in for the browser in loopback redirect
/// tests: one request per connection, read until the server closes it.
enum LoopbackClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// One TCP connection to 127.0.0.1.
    final class Connection {
        let fd: Int32

        /// Connects to 127.0.0.1:`port`; reads give up after `readTimeout` seconds, so a
        /// listener that never answers fails the test instead of hanging it.
        init(port: Int, readTimeout: Int = 10) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                let code = errno
                close(fd)
                throw Failure(description: "connect to port \(port): errno \(code)")
            }
        }

        deinit { close(fd) }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
                sent += n
            }
        }

        /// Everything the server sends until it closes the connection; throws when the read times out.
        func readToEnd() throws -> String {
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 {
                    answer += buffer[0..<n]
                } else if n == 0 || errno == ECONNRESET {
                    return String(decoding: answer, as: UTF8.self)
                } else if errno != EINTR {
                    throw Failure(description: "recv: errno \(errno) after \(answer.count) bytes (the server did not close the connection)")
                }
            }
        }
    }

    /// Sends `request` as written to 127.0.0.1:`port` and returns everything the server answered.
    static func send(port: Int, _ request: String) throws -> String {
        let connection = try Connection(port: port)
        try connection.send(request)
        return try connection.readToEnd()
    }

    /// The request line and headers a browser sends for `GET target`.
    static func request(_ target: String, port: Int) -> String {
        "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: test-browser\r\n\r\n"
    }

    /// `GET target` with a Host header.
    static func get(port: Int, _ target: String) throws -> String {
        try send(port: port, request(target, port: port))
    }

    /// Whether something listens on 127.0.0.1:`port`.
    static func canConnect(port: Int) -> Bool {
        (try? Connection(port: port)) != nil
    }
}

/// Runs a closure on another thread (the "browser") while the test thread
/// blocks in the code under test; `value()` waits for the closure's result.
final class Background<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async { [self] in
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    func value() throws -> Value {
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
