// tokenrun-http: tokenrun's network helper. Reads one JSON request on stdin,
// performs it (AsyncHTTPClient: TLS, no redirects, timeouts, size cap) and
// writes one JSON answer on stdout. Started by tokenrun only to fetch tokens;
// not meant to be run by hand. It never prints what it sends or receives.
//
// It dies with the tokenrun that started it. The helper has its own process
// group (so a Ctrl-C does not cut a refresh in half; tokenrun holds such
// signals back until the vault is written), but if tokenrun is killed outright
// (SIGKILL, OOM), a helper that went on would make the provider rotate the
// refresh token with nobody left to store the new one. Hence the parent-death
// signal, and the check after it for a parent that died before it was set.
import FoundationEssentials
import TokenrunHTTP
import TokenrunOAuth
import TokenrunSodium
import TokenrunSupport
import TokenrunVersion

#if canImport(Glibc)
    import Glibc
#endif

func readStandardInput(limit: Int) -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while result.count <= limit {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        result += chunk[0..<n]
    }
    return result
}

/// Writes the answer and exits. Standard output is closed first, so tokenrun has
/// its end of file without waiting for this process to be torn down.
func answer(_ response: HTTPHelperResponse) -> Never {
    var bytes = (try? Array(JSONEncoder().encode(response))) ?? Array(#"{"error":"failed","message":"encoding"}"#.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        offset += n
    }
    close(1)
    _exit(0)  // no atexit work while the client's event-loop threads still run
}

// It holds a refresh token in memory: no core dumps, not dumpable; and it dies with tokenrun,
// so a refresh nobody will store is never sent.
ProcessHardening.apply()
ProcessHardening.dieWithParent()

func say(_ message: String, to descriptor: Int32) {
    _ = message.withCString { write(descriptor, $0, strlen($0)) }
}
let about = "tokenrun-http is tokenrun's network helper; tokenrun starts it when a token must be fetched.\n"
switch CommandLine.arguments.dropFirst().first {
case "--version":
    say("tokenrun-http \(TokenrunVersion.description)\n", to: 1)
    exit(0)
case "--help", "-h":
    say(about + "See tokenrun-http(1) and tokenrun(1).\n", to: 1)
    exit(0)
case nil: break
case let other?:
    say("tokenrun-http: unknown argument '\(other)'\n" + about, to: 2)
    exit(64)
}
if isatty(0) == 1 {
    say(about, to: 2)
    exit(64)
}
var input = readStandardInput(limit: 1 << 20)
guard let request = try? JSONDecoder().decode(HTTPHelperRequest.self, from: Data(input)) else {
    answer(HTTPHelperResponse(.failure(.failed("tokenrun-http could not read its request"))))
}
Sodium.zero(&input)
if let parent = request.parent, getppid() != parent {
    exit(1)  // tokenrun is gone: nobody would store what the provider answers
}
NIOHTTPTransport().post(request.request, limits: request.limits) { answer(HTTPHelperResponse($0)) }
