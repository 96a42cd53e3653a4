// tokenrun-http: tokenrun's network helper. Reads one JSON request on stdin,
// performs it with libcurl (TLS, the proxy tokenrun chose, no redirects,
// timeouts, a size cap) and writes one JSON answer on stdout. Started by
// tokenrun only to fetch tokens; not meant to be run by hand. It never prints
// what it sends or receives. Embedded Swift: a small program that starts fast.
//
// It dies with the tokenrun that started it. The helper has its own process
// group (so a Ctrl-C does not cut a refresh in half; tokenrun holds such
// signals back until the vault is written), but if tokenrun is killed outright
// (SIGKILL, OOM), a helper that went on would make the provider rotate the
// refresh token with nobody left to store the new one. Hence the parent-death
// signal, and the check after it for a parent that died before it was set.
import TokenrunCurl
import TokenrunHelperKit

/// Writes the answer and exits. Standard output is closed first, so tokenrun has
/// its end of file without waiting for this process to be torn down.
func answer(_ result: Result<CurlResponse, CurlFailure>) -> Never {
    var text: String
    switch result {
    case .success(let response):
        let headers = response.headers.map { "[" + HelperJSON.quoted($0.0) + "," + HelperJSON.quoted($0.1) + "]" }
        text =
            "{\"status\":\(response.status),\"headers\":[" + headers.joined(separator: ",") + "],\"body\":\""
            + HelperBase64.encode(response.body) + "\"}"
    case .failure(let failure):
        var reason: String? = nil
        let (kind, message): (String, String)
        switch failure {
        case .connect(let why): (kind, message) = ("connect", why)
        case .proxy(let why): (kind, message) = ("proxy", why)
        case .proxyAuthentication(let why): (kind, message) = ("proxy_auth", why)
        case .certificate(let problem):
            (kind, message) = ("certificate", problem.words)
            if case .other = problem {} else { reason = problem.words }
        case .tls(let why): (kind, message) = ("tls", why)
        case .caFile(let why): (kind, message) = ("ca_file", why)
        case .timedOut(let why): (kind, message) = ("timeout", why)
        case .tooLarge(let limit): (kind, message) = ("too_large", "\(limit)")
        case .failed(let why): (kind, message) = ("failed", why)
        }
        text = "{\"error\":" + HelperJSON.quoted(kind) + ",\"message\":" + HelperJSON.quoted(message)
        if let reason { text += ",\"reason\":" + HelperJSON.quoted(reason) }
        text += "}"
    }
    var bytes = Array(text.utf8)
    HelperProcess.write(bytes, to: 1)
    HelperProcess.zero(&bytes)
    HelperProcess.closeStandardOutput()
    HelperProcess.exit(0)
}

/// The request tokenrun sent (HTTPHelperRequest), or nil when it is not one.
func request(from json: HelperJSON) -> CurlRequest? {
    guard let url = json["url"]?.string, let encoded = json["body"]?.string, let body = HelperBase64.decode(encoded) else { return nil }
    var headers: [(String, String)] = []
    for pair in json["headers"]?.array ?? [] {
        guard let parts = pair.array, parts.count == 2, let name = parts[0].string, let value = parts[1].string else { return nil }
        headers.append((name, value))
    }
    var request = CurlRequest(url: url, headers: headers, body: body)
    if let seconds = json["connectTimeout"]?.number { request.connectTimeoutMilliseconds = Int(seconds * 1000) }
    if let seconds = json["totalTimeout"]?.number { request.totalTimeoutMilliseconds = Int(seconds * 1000) }
    if let bytes = json["maxResponseBytes"]?.number { request.maxResponseBytes = Int(bytes) }
    request.proxy = json["proxy"]?.string ?? ""
    request.caFile = json["caFile"]?.string
    request.caDirectory = json["caDirectory"]?.string
    return request
}

/// The whole run: hardening, the arguments, the request, the answer.
func main() -> Never {
    HelperProcess.harden()

    HelperProcess.handleCommandLine(
        name: "tokenrun-http", version: "tokenrun-http \(generatedVersion) (commit \(generatedCommit))",
        about: "tokenrun-http is tokenrun's network helper; tokenrun starts it when a token must be fetched.\n")
    var input = HelperProcess.readStandardInput(limit: 1 << 20)
    let parsed = HelperJSON.parse(input)
    HelperProcess.zero(&input)
    guard let parsed, let outgoing = request(from: parsed) else {
        answer(.failure(.failed("tokenrun-http could not read its request")))
    }
    if let parent = parsed["parent"]?.number, HelperProcess.parent != Int32(parent) {
        HelperProcess.exit(1)  // tokenrun is gone: nobody would store what the provider answers
    }
    CurlPost.initialize()
    answer(CurlPost.perform(outgoing))
}

main()
