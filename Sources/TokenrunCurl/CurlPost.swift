// libcurl, wrapped once: one POST with an easy handle, answered as Swift values.
// Built as Embedded Swift for tokenrun-http (no Foundation, no runtime metadata:
// the helper is a few hundred kilobytes plus the system's libcurl). No C type
// leaves this file.
//
// What it does not leave to libcurl's defaults, and why:
// - the proxy is always set explicitly (an empty one means none): tokenrun
//   chooses it from curl's variables and reports what it chose, so what is used
//   is what is reported; a proxy is always asked for a tunnel (CONNECT), also
//   for http://, so a proxy's own answer is never taken for the server's;
// - redirects are not followed, nothing is decompressed, only http and https;
// - the body is capped as it arrives, and the answer is complete or nothing.
import CCurl

/// One POST.
public struct CurlRequest {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var connectTimeoutMilliseconds: Int
    public var totalTimeoutMilliseconds: Int
    public var maxResponseBytes: Int
    /// The proxy URL, or empty for a direct connection.
    public var proxy: String
    /// A CA bundle (PEM) and a hashed CA directory to trust instead of the defaults.
    public var caFile: String?
    public var caDirectory: String?

    public init(url: String, headers: [(String, String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
        connectTimeoutMilliseconds = 10_000
        totalTimeoutMilliseconds = 30_000
        maxResponseBytes = 256 << 10
        proxy = ""
    }
}

/// What came back: the final response's status, headers and body.
public struct CurlResponse {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
}

/// Why the certificate was not trusted.
public enum CertificateProblem: Sendable {
    case unknownIssuer
    case expired
    case notYetValid
    case nameMismatch
    case other(String)

    /// Short words for messages: "unknown issuer", "expired", …
    public var words: String {
        switch self {
        case .unknownIssuer: "unknown issuer"
        case .expired: "expired"
        case .notYetValid: "not yet valid"
        case .nameMismatch: "name mismatch"
        case .other(let text): text
        }
    }
}

/// Why no response came.
public enum CurlFailure: Error {
    /// The server could not be reached (DNS, refused, unreachable).
    case connect(String)
    /// The proxy could not be reached, or refused the tunnel.
    case proxy(String)
    /// The proxy wants credentials (HTTP 407) and had none, or wrong ones: sending them again will not help.
    case proxyAuthentication(String)
    /// The server's certificate is not trusted; nothing was sent.
    case certificate(CertificateProblem)
    /// TLS failed otherwise (handshake, protocol).
    case tls(String)
    /// The CA file or directory to trust cannot be used.
    case caFile(String)
    case timedOut(String)
    case tooLarge(limit: Int)
    case failed(String)
}

/// Collects the answer as it arrives; shared with libcurl's callbacks by pointer.
final class Collector {
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    let limit: Int
    var tooLarge = false

    init(limit: Int) { self.limit = limit }
}

private func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if collector.body.count + length > collector.limit {
        collector.tooLarge = true
        return 0
    }
    if let data {
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            collector.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
    }
    return length
}

private func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard let data else { return length }
    var line = [UInt8](repeating: 0, count: length)
    data.withMemoryRebound(to: UInt8.self, capacity: length) { for i in 0..<length { line[i] = $0[i] } }
    while let last = line.last, last == 0x0A || last == 0x0D { line.removeLast() }
    // A status line starts a new response (a 100 Continue before the real one): keep only the last.
    if line.starts(with: Array("HTTP/".utf8)) {
        collector.headers = []
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        var value = line[(colon + 1)...]
        while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
        collector.headers.append((String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    return length
}

public enum CurlPost {
    /// libcurl's global set-up; once, before any thread exists.
    public static func initialize() { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }

    /// libcurl's version and its TLS library, such as "libcurl/7.88.1 OpenSSL/3.0.19 …".
    public static var version: String { String(cString: curl_version()) }

    public static func perform(_ request: CurlRequest) -> Result<CurlResponse, CurlFailure> {
        guard let handle = curl_easy_init() else { return .failure(.failed("libcurl could not start")) }
        defer { curl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // No "Expect: 100-continue" round trip; no "Accept: */*" of curl's own beside ours.
        for (name, value) in request.headers + [("Expect", "")] {
            let line = value.isEmpty ? name + ":" : name + ": " + value
            list = curl_slist_append(list, line)
        }
        defer { curl_slist_free_all(list) }
        let collector = Collector(limit: request.maxResponseBytes)
        let context = Unmanaged.passUnretained(collector).toOpaque()
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let proxied = !request.proxy.isEmpty
        let status: CURLcode = request.body.withUnsafeBytes { body in
            errorText.withUnsafeMutableBufferPointer { errorBuffer in
                // Every option is checked: one that did not take (an old libcurl, no memory) could leave
                // libcurl to its defaults, such as the proxy variables or every protocol it knows.
                var failed = CURLE_OK
                func check(_ code: CURLcode) { if failed == CURLE_OK && code != CURLE_OK { failed = code } }
                check(tokenrun_curl_set_string(handle, CURLOPT_URL, request.url))
                if tokenrun_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK {
                    // libcurl before 7.85 (Ubuntu 22.04's 7.81) knows only the bitmask form.
                    check(tokenrun_curl_set_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)))
                }
                check(tokenrun_curl_set_long(handle, CURLOPT_NOSIGNAL, 1))
                check(tokenrun_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0))
                check(tokenrun_curl_set_long(handle, CURLOPT_POST, 1))
                check(
                    tokenrun_curl_set_pointer(
                        handle, CURLOPT_POSTFIELDS,
                        UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)))
                check(tokenrun_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, body.count))
                check(tokenrun_curl_set_list(handle, CURLOPT_HTTPHEADER, list))
                check(tokenrun_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds))
                check(tokenrun_curl_set_long(handle, CURLOPT_TIMEOUT_MS, request.totalTimeoutMilliseconds))
                check(tokenrun_curl_set_long(handle, CURLOPT_MAXFILESIZE, request.maxResponseBytes))
                check(tokenrun_curl_set_string(handle, CURLOPT_PROXY, request.proxy))
                // The proxy was chosen with no_proxy already applied: libcurl must not apply it again.
                check(tokenrun_curl_set_string(handle, CURLOPT_NOPROXY, ""))
                if proxied {
                    check(tokenrun_curl_set_long(handle, CURLOPT_HTTPPROXYTUNNEL, 1))
                    check(tokenrun_curl_set_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
                }
                if let caFile = request.caFile {
                    check(tokenrun_curl_set_string(handle, CURLOPT_CAINFO, caFile))
                    // A CA file replaces the system's CAs, which Debian's libcurl also reads from its
                    // built-in directory (/etc/ssl/certs): that directory goes unless one is named.
                    if request.caDirectory == nil { check(tokenrun_curl_set_pointer(handle, CURLOPT_CAPATH, nil)) }
                }
                if let caDirectory = request.caDirectory { check(tokenrun_curl_set_string(handle, CURLOPT_CAPATH, caDirectory)) }
                check(tokenrun_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
                check(tokenrun_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
                check(tokenrun_curl_set_callback(handle, CURLOPT_WRITEFUNCTION, receiveBody))
                check(tokenrun_curl_set_pointer(handle, CURLOPT_WRITEDATA, context))
                check(tokenrun_curl_set_callback(handle, CURLOPT_HEADERFUNCTION, receiveHeader))
                check(tokenrun_curl_set_pointer(handle, CURLOPT_HEADERDATA, context))
                check(tokenrun_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer.baseAddress))
                if failed != CURLE_OK { return failed }
                let performed = curl_easy_perform(handle)
                // Nothing of this closure's stays registered with the handle past it.
                _ = tokenrun_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, nil)
                _ = tokenrun_curl_set_pointer(handle, CURLOPT_POSTFIELDS, nil)
                return performed
            }
        }
        defer { withExtendedLifetime(collector) {} }
        if status == CURLE_OK {
            let code = tokenrun_curl_info_long(handle, CURLINFO_RESPONSE_CODE)
            return .success(CurlResponse(status: code, headers: collector.headers, body: collector.body))
        }
        let detail = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(status)) : detail
        if collector.tooLarge || status == CURLE_FILESIZE_EXCEEDED { return .failure(.tooLarge(limit: request.maxResponseBytes)) }
        let tunnel = tokenrun_curl_info_long(handle, CURLINFO_HTTP_CONNECTCODE)
        // 407 is the standard answer; some proxies (tinyproxy) answer a wrong password with 401.
        if proxied && (tunnel == 407 || tunnel == 401) {
            return .failure(.proxyAuthentication("it wants a user name and password and took none it was given (HTTP \(tunnel))"))
        }
        if proxied && tunnel >= 300 {
            return .failure(.proxy("it refused the tunnel (HTTP \(tunnel))"))
        }
        switch status {
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY: return .failure(.proxy(text))
        case CURLE_COULDNT_CONNECT where proxied: return .failure(.proxy(text))
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT: return .failure(.connect(text))
        case CURLE_OPERATION_TIMEDOUT:
            let connected = tokenrun_curl_info_double(handle, CURLINFO_CONNECT_TIME) > 0
            let seconds = (connected ? request.totalTimeoutMilliseconds : request.connectTimeoutMilliseconds) / 1000
            return .failure(.timedOut(connected ? "no complete answer within \(seconds) s" : "no connection within \(seconds) s"))
        case CURLE_PEER_FAILED_VERIFICATION:
            return .failure(.certificate(problem(verifyResult: tokenrun_curl_info_long(handle, CURLINFO_SSL_VERIFYRESULT), text: text)))
        case CURLE_SSL_CACERT_BADFILE: return .failure(.caFile(text))
        case CURLE_SSL_CONNECT_ERROR: return .failure(.tls(text))
        case CURLE_GOT_NOTHING: return .failure(.failed("the server closed the connection without answering"))
        default: return .failure(.failed(text))
        }
    }

    /// OpenSSL's verification result (X509_V_ERR_*), or, when it is 0, curl's own host name check.
    static func problem(verifyResult: Int, text: String) -> CertificateProblem {
        switch verifyResult {
        case 2, 18, 19, 20, 21: return .unknownIssuer
        case 10: return .expired
        case 9: return .notYetValid
        case 62: return .nameMismatch
        default:
            // curl checks the name itself after OpenSSL accepted the chain.
            if contains(text, "subject name") || contains(text, "does not match") { return .nameMismatch }
            return .other(text)
        }
    }

    static func contains(_ text: String, _ part: String) -> Bool {
        let haystack = Array(text.utf8)
        let needle = Array(part.utf8)
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
