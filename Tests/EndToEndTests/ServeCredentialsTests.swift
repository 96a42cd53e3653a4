// `tokenrun serve-credentials` answering the way systemd asks: a client bound
// to the abstract address NUL RANDOM/unit/UNIT/ID connects and reads to EOF.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: systemd credential socket")
struct ServeCredentialsTests {
    /// Connects as systemd does for `unit` and `id`; prints what was read, base64, or EMPTY.
    static let systemd = """
        import base64, os, socket, sys
        path, unit, ident = sys.argv[1:4]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind("\\0" + os.urandom(8).hex() + "/unit/" + unit + "/" + ident)
        s.connect(path)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        print(base64.b64encode(data).decode() if data else "EMPTY")
        """

    func ask(_ e: EndToEnd, socket: String, unit: String, id: String) -> String {
        let result = e.box.run(["-c", Self.systemd, socket, unit, id], program: e.python)
        let line = result.stdout.split(separator: "\n").first.map(String.init) ?? ""
        if line == "EMPTY" || line.isEmpty { return "" }
        return String(decoding: decodeBase64(line), as: UTF8.self)
    }

    func decodeBase64(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bits = 0
        var count = 0
        var out: [UInt8] = []
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { continue }
            bits = (bits << 6) | value
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> count) & 0xff))
            }
        }
        return out
    }

    @Test("a unit's LoadCredential=demo-token request gets a fresh token the provider accepts, every start; unknown IDs get nothing")
    func serve() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let socket = e.box.root + "/creds.sock"
        let server = e.box.start(["serve-credentials", "--socket", socket, "--map", "mail=demo"])
        defer {
            server.signal(SIGTERM)
            _ = server.wait()
        }
        #expect(server.waitForStderr { $0.contains("serving credentials") } != nil, "\(server.stderrSoFar)")
        var info = stat()
        #expect(stat(socket, &info) == 0 && info.st_mode & 0o777 == 0o600)

        let token = ask(e, socket: socket, unit: "sync.service", id: "demo-token")
        #expect(token.count == 42, "\(token) \(server.stderrSoFar)")
        #expect(token != seed.access_token, "an expired token was refreshed first")
        let check = e.box.run(["-c", "curl -sf -H 'Authorization: Bearer \(token)' \(e.provider.url)/api/me"], program: "/bin/sh")
        #expect(check.status == 0 && check.stdout.contains("alice"))
        #expect(ask(e, socket: socket, unit: "other.service", id: "mail") == token, "--map, and the still-fresh token")
        #expect(ask(e, socket: socket, unit: "x.service", id: "demo-xoauth2").count > 42)
        #expect(ask(e, socket: socket, unit: "x.service", id: "nosuchprofile-token").isEmpty)
        #expect(server.stderrSoFar.contains("nosuchprofile-token for x.service not served"))
        #expect(e.audit.contains("sync.service demo-token"))
        #expect(!server.stderrSoFar.contains(token))
    }
}
