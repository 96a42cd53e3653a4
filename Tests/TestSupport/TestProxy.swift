// A real HTTP proxy for the proxy tests: Debian's tinyproxy, started on a free
// 127.0.0.1 port with a generated configuration, and stopped when released.
// Its log (LogLevel Info) records every request it received, which is how a
// test sees that tokenrun went through it ("CONNECT 127.0.0.1:PORT").
#if canImport(Glibc)
    import Glibc
#endif

public final class TestProxy: @unchecked Sendable {
    public static let binary = "/usr/bin/tinyproxy"

    /// `http://127.0.0.1:PORT`, without credentials.
    public let url: String
    public let port: Int
    private let sandbox = CLISandbox()
    private var process: RunningProcess
    private var stopped = false

    public enum ProxyError: Error, CustomStringConvertible {
        case noTinyproxy
        case didNotStart(String)

        public var description: String {
            switch self {
            case .noTinyproxy: "no \(TestProxy.binary): run `make test` (it installs tinyproxy) or `apt-get install tinyproxy`"
            case .didNotStart(let log): "tinyproxy did not start: \(log)"
            }
        }
    }

    /// `refuseConnect`: every CONNECT (tunnel) to any port but 1 is answered 403, as a proxy
    /// that allows only some ports does. `basicAuth`: the proxy wants these credentials (else 407).
    public init(refuseConnect: Bool = false, basicAuth: (user: String, password: String)? = nil) throws {
        guard access(Self.binary, X_OK) == 0 else { throw ProxyError.noTinyproxy }
        var lastLog = ""
        let logPath = sandbox.root + "/tinyproxy.log"
        // A port found free may be taken before tinyproxy binds it: then try another.
        for _ in 0..<5 {
            let port = Self.freePort()
            // As root tinyproxy warns that no User is set and stays root (it only changes user when
            // told to); as another user it runs as that user. Either way it can write its log here.
            var config = """
                Port \(port)
                Listen 127.0.0.1
                Allow 127.0.0.1
                Timeout 30
                MaxClients 50
                LogFile "\(logPath)"
                LogLevel Info

                """
            if refuseConnect { config += "ConnectPort 1\n" }
            if let basicAuth { config += "BasicAuth \(basicAuth.user) \(basicAuth.password)\n" }
            sandbox.write("tinyproxy.conf", config)
            let started = sandbox.start(["-d", "-c", sandbox.root + "/tinyproxy.conf"], program: Self.binary)
            switch Self.waitUntilListening(port: port, process: started) {
            case .listening:
                self.port = port
                url = "http://127.0.0.1:\(port)"
                process = started
                return
            case .exited(let result):
                lastLog = (readText(logPath) ?? "") + result.all
            case .timedOut:
                started.signal(SIGKILL)
                lastLog = (readText(logPath) ?? "") + started.wait().all
            }
        }
        throw ProxyError.didNotStart(lastLog)
    }

    /// Everything tinyproxy logged so far.
    public var log: String { readText(sandbox.root + "/tinyproxy.log") ?? "" }

    /// Every request received so far (allowed or refused), as its request line without the
    /// version: "CONNECT 127.0.0.1:PORT", "GET http://127.0.0.1:PORT/api/me".
    public var requests: [String] {
        log.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("Request (file descriptor"), let range = line.firstRange(of: "): ") else { return nil }
            return line[range.upperBound...].split(separator: " ").prefix(2).joined(separator: " ")
        }
    }

    /// The tunnels asked for so far, as "CONNECT HOST:PORT".
    public var connects: [String] { requests.filter { $0.hasPrefix("CONNECT ") } }

    /// How many tunnels were asked for to 127.0.0.1:`port`.
    public func connects(toPort port: Int) -> Int { connects.filter { $0 == "CONNECT 127.0.0.1:\(port)" }.count }

    /// `http://user:password@127.0.0.1:PORT`.
    public func url(user: String, password: String) -> String { "http://\(user):\(password)@127.0.0.1:\(port)" }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.signal(SIGTERM)
        if !Self.waitForExit(process, seconds: 5) {
            process.signal(SIGKILL)
            _ = process.wait()
        }
    }

    deinit { stop() }

    /// `127.0.0.1:PORT` of a port where nothing listens: a proxy that is down.
    public static func deadAddress() -> String { "127.0.0.1:\(freePort())" }

    /// A port of 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        precondition(bound, "cannot bind 127.0.0.1:0")
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    private enum Start {
        case listening
        case exited(CLIResult)
        case timedOut
    }

    /// Waits up to 10 s for a connection to `port` to be accepted, or for the process to exit.
    private static func waitUntilListening(port: Int, process: RunningProcess) -> Start {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopback(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return .listening }
            if let result = process.poll() { return .exited(result) }
            usleep(50_000)
        }
        return .timedOut
    }

    private static func waitForExit(_ process: RunningProcess, seconds: Int) -> Bool {
        for _ in 0..<(seconds * 20) {
            if process.poll() != nil { return true }
            usleep(50_000)
        }
        return false
    }
}
