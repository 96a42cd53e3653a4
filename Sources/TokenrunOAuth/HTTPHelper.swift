// The network runs in a separate program, tokenrun-http, started only when a
// token must be fetched: the main binary carries no HTTP or TLS stack, which
// keeps the warm path's start-up small (the Swift runtime scans every protocol
// conformance in the binary on a cast cache miss). One exchange per run, as
// JSON over the helper's stdin and stdout: the request (with the refresh token
// in its body) never touches argv or the environment.
//
// The helper closes its standard output as soon as it has answered; tokenrun
// takes the answer at that end of file and does not wait for the helper's
// exit (the kernel's teardown of a process with an HTTP client takes
// milliseconds): the answer may hold a rotated refresh token that is not in
// the vault yet. Answered helpers are reaped after the vault write, by
// `reapAnswered()`, or before the next helper starts.
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The request tokenrun sends to tokenrun-http.
public struct HTTPHelperRequest: Codable, Sendable {
    public var url: String
    public var headers: [[String]]
    public var body: String  // base64
    public var connectTimeout: Double
    public var totalTimeout: Double
    public var maxResponseBytes: Int
    /// The pid of the tokenrun that started the helper: a helper whose parent is
    /// gone sends nothing (see tokenrun-http).
    public var parent: Int32?

    public init(_ request: HTTPRequest, limits: TransportLimits) {
        parent = getpid()
        url = request.url
        headers = request.headers.map { [$0.0, $0.1] }
        body = Data(request.body).base64EncodedString()
        connectTimeout = limits.connectTimeout
        totalTimeout = limits.totalTimeout
        maxResponseBytes = limits.maxResponseBytes
    }

    public var request: HTTPRequest {
        HTTPRequest(
            url: url, headers: headers.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil },
            body: Data(base64Encoded: body).map(Array.init) ?? [])
    }

    public var limits: TransportLimits {
        var limits = TransportLimits()
        limits.connectTimeout = connectTimeout
        limits.totalTimeout = totalTimeout
        limits.maxResponseBytes = maxResponseBytes
        return limits
    }
}

/// What tokenrun-http answers: a response, or a transport error.
public struct HTTPHelperResponse: Codable, Sendable {
    public var status: Int?
    public var headers: [[String]]?
    public var body: String?  // base64
    public var error: String?  // connect, timeout, too_large, failed
    public var message: String?

    public init(_ result: Result<HTTPResponse, TransportError>) {
        switch result {
        case .success(let response):
            status = response.status
            headers = response.headers.map { [$0.0, $0.1] }
            body = Data(response.body).base64EncodedString()
        case .failure(let failure):
            switch failure {
            case .connectFailed(let why): (error, message) = ("connect", why)
            case .timedOut(let why): (error, message) = ("timeout", why)
            case .responseTooLarge(let limit): (error, message) = ("too_large", String(limit))
            case .failed(let why): (error, message) = ("failed", why)
            case .helperMissing(let path): (error, message) = ("failed", "cannot run \(path)")
            }
        }
    }

    public var result: Result<HTTPResponse, TransportError> {
        if let status {
            let pairs = (headers ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
            let bytes = body.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
            return .success(HTTPResponse(status: status, headers: pairs, body: bytes))
        }
        let why = message ?? "no detail"
        switch error {
        case "connect": return .failure(.connectFailed(why))
        case "timeout": return .failure(.timedOut(why))
        case "too_large": return .failure(.responseTooLarge(limit: Int(why) ?? 0))
        default: return .failure(.failed(why))
        }
    }
}

/// `HTTPTransport` that runs one exchange through the tokenrun-http program.
public struct HelperProcessTransport: HTTPTransport {
    public let helperPath: String
    public let environment: [String: String]

    public init(helperPath: String, environment: [String: String]) {
        self.helperPath = helperPath
        self.environment = KeyVariables.removed(from: environment)
    }

    /// tokenrun-http beside the running executable, else on PATH.
    public static func locate(environment: [String: String]) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let beside = exe.directoryName + "/tokenrun-http"
            if access(beside, X_OK) == 0 { return beside }
        }
        // Absolute PATH entries only: a relative one could hand the refresh token to ./tokenrun-http.
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/tokenrun-http"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return "tokenrun-http"
    }

    public func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
        let encoder = JSONEncoder()
        guard var input = try? Array(encoder.encode(HTTPHelperRequest(request, limits: limits))) else {
            throw .failed("cannot encode the request")
        }
        defer { Sodium.zero(&input) }
        let output = try exchange(input, deadline: limits.totalTimeout + limits.connectTimeout + 5)
        guard let answer = try? JSONDecoder().decode(HTTPHelperResponse.self, from: Data(output)) else {
            throw .failed("\(helperPath) gave no readable answer")
        }
        return try answer.result.get()
    }

    /// Helpers that answered and may still be exiting.
    static let answered = Mutex<[pid_t]>([])

    /// Waits for the helpers that have answered; call it once their answers are stored.
    public static func reapAnswered() {
        let pids = answered.withLock { pids in
            defer { pids.removeAll() }
            return pids
        }
        for pid in pids {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// Runs the helper with `input` on stdin and returns its stdout.
    func exchange(_ input: [UInt8], deadline: Double) throws(TransportError) -> [UInt8] {
        Self.reapAnswered()
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { throw .failed("pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&fromChild) == 0 else {
            close(toChild[0])
            close(toChild[1])
            throw .failed("pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so no other child (nor the helper itself) holds a stray end open.
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let spawned = ChildProcess.spawnOwnProgram(helperPath, environment: environment, stdin: toChild[0], stdout: fromChild[1])
        close(toChild[0])
        close(fromChild[1])
        guard let pid = spawned else {
            close(toChild[1])
            close(fromChild[0])
            throw .helperMissing(helperPath)
        }
        // The request is small (well under a pipe's buffer), so this write cannot block on the helper.
        var offset = 0
        while offset < input.count {
            let n = input.withUnsafeBytes { write(toChild[1], $0.baseAddress! + offset, input.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        close(toChild[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        let end = Monotonic.milliseconds() + Int64(deadline * 1000)
        var timedOut = false
        while true {
            let left = end - Monotonic.milliseconds()
            if left <= 0 {
                timedOut = true
                break
            }
            var poller = pollfd(fd: fromChild[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 60_000)))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fromChild[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
            if output.count > 64 << 20 { break }
        }
        close(fromChild[0])
        var status: Int32 = 0
        if timedOut {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            throw .timedOut("no answer within \(Int(deadline)) s")
        }
        // It has answered: reaped now if it is gone already, else later.
        if waitpid(pid, &status, WNOHANG) != pid { Self.answered.withLock { $0.append(pid) } }
        return output
    }
}
