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
import TokenrunProfiles
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The request tokenrun sends to tokenrun-http. Written and read as JSON by hand, as
/// the warm path's files are (JSONReader): JSONEncoder and JSONDecoder build generic
/// metadata and scan the binary's protocol conformances on first use, which measured
/// as a millisecond of every refreshing launch.
public struct HTTPHelperRequest: Sendable {
    public var url: String
    public var headers: [[String]]
    public var body: String  // base64
    public var connectTimeout: Double
    public var totalTimeout: Double
    public var maxResponseBytes: Int
    /// The pid of the tokenrun that started the helper: a helper whose parent is
    /// gone sends nothing (see tokenrun-http).
    public var parent: Int32?
    /// The proxy URL, "" for a direct connection: chosen here (NetworkRoute), never by libcurl.
    public var proxy: String
    /// CAs to trust instead of the system's, and a hashed directory of more.
    public var caFile: String?
    public var caDirectory: String?

    public init(_ request: HTTPRequest, limits: TransportLimits, route: NetworkRoute) {
        parent = getpid()
        url = request.url
        headers = request.headers.map { [$0.0, $0.1] }
        body = Base64.encode(request.body)
        connectTimeout = limits.connectTimeout
        totalTimeout = limits.totalTimeout
        maxResponseBytes = limits.maxResponseBytes
        proxy = route.proxy ?? ""
        caFile = route.caFile
        caDirectory = route.caDirectory
    }

    /// The request as one JSON object.
    public var json: [UInt8] {
        func number(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)" }
        var fields = [
            "\"url\":" + Quoting.json(url),
            "\"headers\":[" + headers.map { "[" + $0.map(Quoting.json).joined(separator: ",") + "]" }.joined(separator: ",") + "]",
            "\"body\":" + Quoting.json(body),
            "\"connectTimeout\":" + number(connectTimeout), "\"totalTimeout\":" + number(totalTimeout),
            "\"maxResponseBytes\":" + String(maxResponseBytes), "\"proxy\":" + Quoting.json(proxy),
        ]
        if let parent { fields.append("\"parent\":" + String(parent)) }
        if let caFile { fields.append("\"caFile\":" + Quoting.json(caFile)) }
        if let caDirectory { fields.append("\"caDirectory\":" + Quoting.json(caDirectory)) }
        return Array(("{" + fields.joined(separator: ",") + "}").utf8)
    }
}

/// What tokenrun-http answers: a response, or why there is none.
public struct HTTPHelperResponse: Sendable {
    public var status: Int?
    public var headers: [[String]]?
    public var body: String?  // base64
    /// connect, proxy, proxy_auth, certificate, tls, ca_file, timeout, too_large, failed
    public var error: String?
    public var message: String?
    /// For a certificate: unknown issuer, expired, not yet valid, name mismatch.
    public var reason: String?

    /// Reads the helper's answer; nil when it is not one.
    public init?(json bytes: [UInt8]) {
        guard let value = try? JSONReader.parse(bytes), let object = try? JSONObjectReader(value) else { return nil }
        do {
            status = try object.optionalInt64("status").map { Int($0) }
            if case .array(let pairs)? = object.members["headers"] {
                headers = try pairs.map { pair throws(JSONReadError) -> [String] in
                    guard case .array(let parts) = pair else { throw JSONReadError(offset: 0, reason: "wrong type at headers") }
                    return try parts.map { part throws(JSONReadError) -> String in
                        guard let text = part.stringValue else { throw JSONReadError(offset: 0, reason: "wrong type at headers") }
                        return text
                    }
                }
            }
            body = try object.optionalString("body")
            error = try object.optionalString("error")
            message = try object.optionalString("message")
            reason = try object.optionalString("reason")
        } catch {
            return nil
        }
        if status == nil && error == nil { return nil }
    }

    /// The answer for a request to `url` sent along `route`; the helper's words are
    /// scrubbed of the proxy's credentials before they can reach a message.
    public func result(url: String, route: NetworkRoute) -> Result<HTTPResponse, TransportError> {
        if let status {
            let pairs = (headers ?? []).compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
            let bytes = body.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
            return .success(HTTPResponse(status: status, headers: pairs, body: bytes))
        }
        let why = route.scrubbed(message ?? "no detail")
        let host = Endpoint.authority(ofURL: url)
        switch error {
        case "connect": return .failure(.connectFailed(why))
        case "proxy": return .failure(.proxyFailed(proxy: route.proxyLabel, why: why))
        case "proxy_auth": return .failure(.proxyAuthentication(proxy: route.proxyLabel, why: why))
        case "certificate": return .failure(.certificateRejected(host: host, problem: reason ?? why, trust: route.trustSource))
        case "tls": return .failure(.tlsFailed(host: host, why: why))
        case "ca_file": return .failure(.caFileUnusable(trust: route.trustSource, why: why))
        case "timeout": return .failure(.timedOut(why))
        case "too_large": return .failure(.responseTooLarge(limit: Int(why) ?? 0))
        default: return .failure(.failed(why))
        }
    }
}

/// `HTTPTransport` that runs one exchange through the tokenrun-http program.
public struct HelperProcessTransport: HTTPTransport {
    public let helperPath: String
    /// tokenrun's environment, for choosing the proxy and CAs. The helper itself starts with an
    /// empty one: all it needs is in its request, and libcurl and OpenSSL read variables of their
    /// own (SSLKEYLOGFILE would write the TLS secrets that protect the refresh token to a file).
    public let environment: [String: String]

    public init(helperPath: String, environment: [String: String]) {
        self.helperPath = helperPath
        self.environment = KeyVariables.removed(from: environment)
    }

    /// tokenrun-http beside the running executable, else on PATH.
    public static func locate(environment: [String: String]) -> String {
        ChildProcess.ownProgram("tokenrun-http", environment: environment)
    }

    public func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
        let route = NetworkRoute.resolve(
            url: request.url, network: limits.network, profileCAFile: limits.caFile, environment: environment)
        var input = HTTPHelperRequest(request, limits: limits, route: route).json
        defer { Sodium.zero(&input) }
        let output = try exchange(input, deadline: limits.totalTimeout + limits.connectTimeout + 5)
        guard let answer = HTTPHelperResponse(json: output) else {
            throw .failed("\(helperPath) gave no readable answer")
        }
        return try answer.result(url: request.url, route: route).get()
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
        let spawned = ChildProcess.spawnOwnProgram(helperPath, environment: [:], stdin: toChild[0], stdout: fromChild[1])
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
