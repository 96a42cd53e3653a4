// Hostile and broken input, end to end. Every case checks the
// words and exit status the user sees, and that nothing is lost: a vault that
// cannot be read keeps its bytes (no command rewrites it, not even a write
// like import), the stored credential works again once the cause is removed,
// and no token or client secret appears in any output or the audit trail.
import FoundationEssentials
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    var profilePath: String { box.profileDir + "/demo.toml" }

    /// Fails the test when a token of `seed`, the client secret or a token
    /// planted in a hostile answer appears in `results` or the audit trail.
    func expectNoSecret(_ results: [CLIResult], seed: TestProvider.Seed, sourceLocation: SourceLocation = #_sourceLocation) {
        let texts = results.map(\.all) + [audit]
        for secret in [seed.access_token, seed.refresh_token, "test-secret", "SECRET"] {
            #expect(!texts.contains { $0.contains(secret) }, "\"\(secret)\" was printed", sourceLocation: sourceLocation)
        }
    }

    /// The launch that shows the stored credential is whole: exit 0, the child's API call accepted.
    func expectWorks(_ label: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = launch()
        #expect(result.status == 0, "\(label): \(result.all)", sourceLocation: sourceLocation)
        #expect(result.stdout.contains("\"status\": 200"), "\(label): \(result.all)", sourceLocation: sourceLocation)
        #expect(try provider.stats().reuse_events == 0, "\(label)", sourceLocation: sourceLocation)
    }
}

/// `text` with every occurrence of `old` replaced, as bytes.
private func replacing(_ old: String, with new: String) -> @Sendable ([UInt8]) -> [UInt8] {
    { bytes in Array(String(decoding: bytes, as: UTF8.self).replacing(old, with: new).utf8) }
}

// MARK: - Profiles

@Suite("end to end: hostile profiles")
struct HostileProfileTests {
    struct Case: Sendable {
        let name: String
        let damage: @Sendable ([UInt8]) -> [UInt8]
        /// The line the error names; nil when it names the file only.
        let line: Int?
        let message: String
        let hint: String
    }

    // The demo profile, line by line: 1 description, 2 username, 3 [oauth], 4 token_endpoint,
    // 5 client_id, 6 client_secret, 7 scopes, 8 [env], 9 TOKEN.
    static let cases: [Case] = [
        Case(
            name: "malformed: a table header without its ]", damage: replacing("[env]", with: "[env"), line: 8,
            message: "invalid TOML: unclosed header [env]: expected ']', found end of line", hint: "fix line 8 of "),
        Case(
            name: "truncated in the middle of a string",
            damage: { bytes in Array(bytes[..<(bytes.firstRange(of: Array("offline".utf8))!.lowerBound + 4)]) }, line: 7,
            message: "invalid TOML: unterminated string", hint: "fix line 7 of "),
        Case(
            name: "huge: over 1 MiB", damage: { $0 + Array(repeating: UInt8(ascii: "#"), count: 1 << 20) }, line: nil,
            message: "the file is over the 1 MiB limit for a profile", hint: "a profile is a short TOML file; check that "),
        Case(
            name: "binary: an executable instead of TOML",
            damage: { _ in [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + Array(repeating: 0, count: 56) }, line: 1,
            message: "invalid TOML: file contains a NUL byte: not a text file", hint: "fix line 1 of "),
        Case(
            name: "binary: a Latin-1 byte in a string",
            damage: { bytes in
                var bytes = bytes
                bytes[bytes.firstRange(of: Array("demo\"".utf8))!.lowerBound] = 0xE9
                return bytes
            },
            line: 1, message: "invalid TOML: file is not UTF-8 text (invalid byte 0xE9 at byte offset 26) (column 27)",
            hint: "fix line 1 of "),
        Case(
            name: "duplicate keys", damage: replacing("scopes =", with: "client_id = \"other\"\nscopes ="), line: 7,
            message: "invalid TOML: duplicate key \"client_id\" (first defined on line 5)", hint: "fix line 7 of "),
        Case(
            name: "a duplicate table", damage: { $0 + Array("\n[oauth]\nclient_id = \"other\"\n".utf8) }, line: 11,
            message: "invalid TOML: table [oauth] is already defined (on line 3)", hint: "fix line 11 of "),
        Case(
            name: "a template with an unknown variable", damage: replacing("{{access_token}}", with: "{{acces_token}}"), line: 9,
            message: "env.TOKEN: unknown template variable \"{{acces_token}}\"", hint: "did you mean \"access_token\"?"),
    ]

    // One provider for every case (starting one costs more than a case): each case
    // ends with the profile repaired and a launch that works.
    @Test(
        "a broken profile exits 78 naming the file, the line and the fix; no request, the vault untouched, and the credential works once it is fixed"
    )
    func brokenProfiles() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        let good = try #require(readBytes(e.profilePath))
        for c in Self.cases {
            let vault = try #require(readBytes(e.box.vaultPath))
            let requests = try e.provider.stats().token_requests
            e.box.write(path: e.profilePath, bytes: c.damage(good))
            let where_ = e.profilePath + (c.line.map { ":\($0)" } ?? "")
            var results: [CLIResult] = []
            for arguments in [
                ["-p", "demo", "--", e.python, e.child, "--url", e.provider.url], ["get", "-p", "demo"], ["export", "-p", "demo"],
            ] {
                let result = e.box.run(arguments)
                results.append(result)
                #expect(result.status == 78, "\(c.name): \(arguments): \(result.all)")
                #expect(result.stderr.hasPrefix("tokenrun: error: \(where_): "), "\(c.name): \(result.stderr)")
                #expect(result.stderr.contains(c.message), "\(c.name): \(result.stderr)")
                #expect(result.stderr.contains("\ntokenrun: hint: \(c.hint)"), "\(c.name): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(c.name): the command ran: \(result.stdout)")
            }
            #expect(readBytes(e.box.vaultPath) == vault, "\(c.name): the vault changed")
            #expect(try e.provider.stats().token_requests == requests, "\(c.name): a token was requested")
            e.expectNoSecret(results, seed: seed)

            e.box.write(path: e.profilePath, bytes: good)
            try e.expectWorks(c.name)
        }
    }
}

// MARK: - Token responses

/// `text` as a JSON string literal.
private func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 {
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

@Suite("end to end: hostile token responses")
struct HostileTokenResponseTests {
    struct Case: Sendable {
        let name: String
        /// The /test/fault request, without its count.
        let fault: String
        let message: String

        /// A 200 application/json answer with `body` as it is.
        static func json(_ name: String, _ body: String, _ message: String) -> Case {
            Case(name: name, fault: #"{"kind":"json","body":\#(jsonString(body))"#, message: message)
        }
    }

    static let cases: [Case] = [
        Case(name: "HTML, not JSON", fault: #"{"kind":"html""#, message: "with an HTML page (text/html"),
        .json(
            "truncated JSON", #"{"access_token":"SECRET-at-1","token_type":"Bearer","expires_in":36"#,
            "with malformed or truncated JSON (67 bytes, application/json)"),
        .json(
            "an access_token of the wrong type", #"{"access_token":12345,"token_type":"Bearer","expires_in":3600}"#,
            "the token response's access_token is a number, not a string"),
        .json(
            "an expires_in of the wrong type", #"{"access_token":"SECRET-at-2","expires_in":"soon"}"#,
            #"the token response's expires_in ("soon") is not a number"#),
        .json("JSON that is not an object", #"["SECRET-at-3"]"#, "with JSON an array, not an object"),
        .json(
            // Without a refresh_token: one that came with it would be kept (TokenEndpointClassTests).
            "no access_token", #"{"token_type":"Bearer","expires_in":3600}"#,
            "the token response (HTTP 200) has no access_token"),
        .json(
            "a negative expires_in", #"{"access_token":"SECRET-at-5","expires_in":-3600}"#,
            "the token response's expires_in (-3600) is not a plausible lifetime"),
        .json(
            "an absurd expires_in", #"{"access_token":"SECRET-at-6","expires_in":1000000000000}"#,
            "the token response's expires_in (1000000000000) is not a plausible lifetime"),
        .json(
            "control characters in the access token", #"{"access_token":"SECRET\u001b[31m-at-7","expires_in":3600}"#,
            "the token response's access_token contains spaces or control characters"),
        .json(
            "a line break in the refresh token", #"{"access_token":"SECRET-at-8","refresh_token":"SECRET\nrt-8"}"#,
            "the token response's refresh_token contains spaces or control characters"),
        .json(
            "an answer over the 256 KiB cap",
            #"{"access_token":"SECRET-at-9","padding":""# + String(repeating: "x", count: 300_000) + #""}"#,
            "the token endpoint's answer is larger than 256 KiB; check its URL"),
    ]

    // One provider for every case; each case starts from a new grant whose access
    // token has expired, so there is no valid token to fall back on.
    @Test(
        "a token response that is not a usable token exits 75 saying what came back; the refresh token survives and works once the provider answers properly"
    )
    func unusableAnswers() throws {
        let e = try EndToEnd()
        for c in Self.cases {
            let seed = try e.login()
            try e.provider.fault(c.fault + #","count":5}"#)
            let result = e.launch()
            #expect(result.status == 75, "\(c.name): \(result.all)")
            #expect(
                result.stderr.hasPrefix("tokenrun: error: cannot refresh \"demo\" now and its access token has expired: "),
                "\(c.name): \(result.stderr)")
            #expect(result.stderr.contains(c.message), "\(c.name): \(result.stderr)")
            #expect(
                result.stderr.contains("\ntokenrun: hint: this is temporary: retry later (exit status 75)"), "\(c.name): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(c.name): the command ran: \(result.stdout)")
            let status = e.box.run(["status", "-p", "demo"])
            #expect(status.stdout.contains("expired"), "\(c.name): \(status.all)")
            e.expectNoSecret([result, status], seed: seed)

            try e.provider.fault(#"{"clear":true}"#)
            try e.expectWorks(c.name)
        }
    }

    @Test("a token response without expires_in is taken to live an hour")
    func missingExpiresIn() throws {
        let e = try EndToEnd()
        try e.login()
        try e.provider.fault(#"{"kind":"json","body":"{\"access_token\":\"at-without-expiry\",\"token_type\":\"Bearer\"}"}"#)
        let result = e.box.run(["get", "-p", "demo", "--field", "expires_in"])
        #expect(result.status == 0, "\(result.all)")
        let seconds = try #require(result.stdout.split(separator: "\n").first.flatMap { Int($0) }, "\(result.all)")
        #expect((3500...3600).contains(seconds))
        #expect(e.box.run(["status", "-p", "demo"]).stdout.contains("connected"))
    }

    @Test("an endpoint that never answers is cut off by TOKENRUN_HTTP_TIMEOUT: exit 75, no second request, and the token refreshes later")
    func neverAnswers() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        try e.provider.fault(#"{"kind":"hang","count":1}"#)
        let result = e.launch(environment: ["TOKENRUN_HTTP_TIMEOUT": "2"])
        #expect(result.status == 75, "\(result.all)")
        #expect(result.stderr.contains("/oauth/token timed out: no complete answer within 2 s"), "\(result.stderr)")
        #expect(result.stderr.contains("\ntokenrun: hint: this is temporary: retry later (exit status 75)"))
        #expect(try e.provider.stats().token_requests == 1)
        e.expectNoSecret([result], seed: seed)
        try e.expectWorks()
    }

    @Test(
        "a server that trickles its answer a byte at a time (headers or body) is cut off by the total timeout: exit 75, and the token refreshes once the endpoint is fixed"
    )
    func slowloris() throws {
        let e = try EndToEnd()
        let good = try #require(e.box.read(e.profilePath))
        for part in ["headers", "body"] {
            let trickle = try Trickler(box: e.box, part: part)
            defer { trickle.stop() }
            // The credential is bound to the endpoint its profile names when it is imported.
            e.box.writeProfile("demo", good.replacing(e.provider.tokenEndpoint, with: trickle.url + "/oauth/token"))
            let seed = try e.login()
            let result = e.launch(environment: ["TOKENRUN_HTTP_TIMEOUT": "2"])
            #expect(result.status == 75, "\(part): \(result.all)")
            #expect(result.stderr.contains("/oauth/token timed out: no complete answer within 2 s"), "\(part): \(result.stderr)")
            e.expectNoSecret([result], seed: seed)

            // Fixing the endpoint is a change of issuer: a new login (here an import) for it.
            e.box.writeProfile("demo", good)
            try e.login()
            try e.expectWorks(part)
        }
    }
}

/// A server on 127.0.0.1 that answers every request by sending its status
/// line and then the rest (headers, or the body after complete headers) one
/// byte every 0.1 s, for ever: a slowloris.
final class Trickler: @unchecked Sendable {
    let url: String
    private let process: RunningProcess

    static let script = """
        import socket, sys, threading, time
        part = sys.argv[1]
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        print("READY http://127.0.0.1:%d" % server.getsockname()[1], flush=True)
        def serve(conn):
            try:
                request = b""
                while b"\\r\\n\\r\\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                conn.sendall(b"HTTP/1.1 200 OK\\r\\n")
                if part == "headers":
                    rest = b"X-Slow: " + b"a" * 100000
                else:
                    conn.sendall(b"Content-Type: application/json\\r\\nContent-Length: 100000\\r\\n\\r\\n")
                    rest = b'{"access_token":"SECRET-slow","token_type":"Bearer","padding":"' + b"x" * 100000
                for i in range(len(rest)):
                    conn.sendall(rest[i:i + 1])
                    time.sleep(0.1)
            except OSError:
                pass
            finally:
                conn.close()
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """

    init(box: CLISandbox, part: String) throws {
        box.write("trickle.py", Self.script)
        process = box.start([box.root + "/trickle.py", part], program: TestProvider.python)
        var found: String?
        for _ in 0..<200 {
            if let line = process.stdoutSoFar.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) {
                found = String(line.dropFirst("READY ".count))
                break
            }
            usleep(50_000)
        }
        guard let found else {
            process.signal(SIGKILL)
            throw TestProvider.ProviderError.didNotStart(process.wait().stderr)
        }
        url = found
    }

    func stop() {
        process.signal(SIGKILL)
        _ = process.wait()
    }
}

// MARK: - Vaults and key files

@Suite("end to end: hostile vaults and key files")
struct HostileVaultTests {
    struct Case: Sendable {
        let name: String
        /// Damages the vault or key file of `e`.
        let damage: @Sendable (EndToEnd) -> Void
        /// Puts back what `damage` changed, from the saved vault and key bytes.
        let restore: @Sendable (EndToEnd, _ vault: [UInt8], _ key: [UInt8]) -> Void
        /// The error, after "tokenrun: error: ".
        let message: @Sendable (EndToEnd) -> String
        let hint: @Sendable (EndToEnd) -> String
    }

    static func restoreVault(_ e: EndToEnd, _ vault: [UInt8], _ key: [UInt8]) { e.box.write(path: e.box.vaultPath, bytes: vault) }
    static func restoreKey(_ e: EndToEnd, _ vault: [UInt8], _ key: [UInt8]) { e.box.write(path: e.box.keyPath, bytes: key) }

    /// Changes the vault's bytes in place.
    static func editVault(_ change: @escaping @Sendable (inout [UInt8]) -> Void) -> @Sendable (EndToEnd) -> Void {
        { e in
            var bytes = readBytes(e.box.vaultPath)!
            change(&bytes)
            e.box.write(path: e.box.vaultPath, bytes: bytes)
        }
    }

    /// Flips the lowest bit of the byte `offset` bytes after the first `marker`.
    static func flipBit(after marker: String, offset: Int) -> @Sendable (EndToEnd) -> Void {
        editVault { bytes in bytes[bytes.firstRange(of: Array(marker.utf8))!.upperBound + offset] ^= 1 }
    }

    /// Flips one bit of the authentication code itself (decoded, so the line stays valid base64).
    static let flipMACBit = editVault { bytes in
        let start = bytes.firstRange(of: Array("\nmac ".utf8))!.upperBound
        var mac = Data(base64Encoded: Data(bytes[start..<(bytes.count - 1)]))!
        mac[mac.startIndex + 7] ^= 0x10
        bytes.replaceSubrange(start..<(bytes.count - 1), with: Array(mac.base64EncodedString().utf8))
    }

    static func restoreHint(_ e: EndToEnd) -> String {
        "restore \(e.box.vaultPath) from a backup, or move it aside (mv \(e.box.vaultPath) \(e.box.vaultPath).broken) and log in again"
    }

    static func keyLength(_ count: Int) -> Case {
        Case(
            name: "a key file of \(count) bytes",
            damage: { e in
                let key = readBytes(e.box.keyPath)!
                let damaged = count <= 32 ? Array(key.prefix(count)) : key + Array(repeating: UInt8(ascii: "\n"), count: count - 32)
                e.box.write(path: e.box.keyPath, bytes: damaged)
            },
            restore: restoreKey,
            message: { e in "the key file \(e.box.keyPath) is not usable: it holds \(count) bytes, not 32" },
            hint: { e in "restore \(e.box.keyPath) from a backup; a key file holds exactly 32 random bytes" })
    }

    static let cases: [Case] = [
        Case(
            name: "a flipped bit in the format line", damage: flipBit(after: "TOKENRUN-VAU", offset: 0), restore: restoreVault,
            message: { e in
                "the vault \(e.box.vaultPath) is damaged: it does not start with the tokenrun vault header; it was left untouched"
            },
            hint: restoreHint),
        Case(
            name: "a flipped bit in a sealed record", damage: flipBit(after: "\ndemo ", offset: 20), restore: restoreVault,
            message: { e in
                "the vault \(e.box.vaultPath) has been altered: its authentication code does not match its contents; it was left untouched"
            },
            hint: restoreHint),
        Case(
            name: "a flipped bit in the authentication code", damage: flipMACBit, restore: restoreVault,
            message: { e in
                "the vault \(e.box.vaultPath) has been altered: its authentication code does not match its contents; it was left untouched"
            },
            hint: restoreHint),
        Case(
            name: "a truncated vault", damage: editVault { $0.removeLast(30) }, restore: restoreVault,
            message: { e in "the vault \(e.box.vaultPath) is truncated (its end is missing); it was left untouched" },
            hint: restoreHint),
        Case(
            name: "a vault cut in half", damage: editVault { $0.removeLast($0.count / 2) }, restore: restoreVault,
            message: { e in "the vault \(e.box.vaultPath) is truncated (its end is missing); it was left untouched" },
            hint: restoreHint),
        Case(
            name: "a vault from a newer version",
            damage: editVault { $0[$0.firstRange(of: Array("VAULT 2".utf8))!.upperBound - 1] = UInt8(ascii: "3") },
            restore: restoreVault,
            message: { e in
                "the vault \(e.box.vaultPath) has format version 3, newer than this tokenrun reads (2); it was left untouched"
            },
            hint: { _ in "use the tokenrun version that wrote this vault, or upgrade tokenrun" }),
        Case(
            name: "a vault replaced by a symbolic link",
            damage: { e in
                rename(e.box.vaultPath, e.box.vaultPath + ".real")
                symlink(e.box.vaultPath + ".real", e.box.vaultPath)
            },
            restore: { e, _, _ in
                unlink(e.box.vaultPath)
                rename(e.box.vaultPath + ".real", e.box.vaultPath)
            },
            message: { e in "the vault \(e.box.vaultPath) is a symbolic link; refusing to follow it" },
            hint: { e in "replace the link \(e.box.vaultPath) with the real file" }),
        keyLength(31), keyLength(33), keyLength(0),
    ]

    // One provider for every case; each case ends with the file restored and a launch that works.
    @Test(
        "a damaged vault or key file exits 78 naming it and the fix; no command rewrites it, and the credential works once it is restored"
    )
    func damaged() throws {
        let e = try EndToEnd()
        let seed = try e.login()
        for c in Self.cases {
            let vault = try #require(readBytes(e.box.vaultPath))
            let key = try #require(readBytes(e.box.keyPath))
            let requests = try e.provider.stats().token_requests
            c.damage(e)
            let damagedVault = readBytes(e.box.vaultPath)
            let damagedKey = readBytes(e.box.keyPath)
            var before = stat()
            lstat(e.box.vaultPath, &before)
            var results: [CLIResult] = []
            for arguments in [
                ["-p", "demo", "--", e.python, e.child, "--url", e.provider.url], ["get", "-p", "demo"], ["status"],
                ["import", "-p", "demo", "--refresh-token-stdin"],
            ] {
                let result = e.box.run(arguments, stdin: "rt-imported\n")
                results.append(result)
                #expect(result.status == 78, "\(c.name): \(arguments): \(result.all)")
                #expect(result.stderr.hasPrefix("tokenrun: error: \(c.message(e))\n"), "\(c.name): \(arguments): \(result.stderr)")
                #expect(result.stderr.contains("\ntokenrun: hint: \(c.hint(e))"), "\(c.name): \(arguments): \(result.stderr)")
                #expect(readBytes(e.box.vaultPath) == damagedVault, "\(c.name): \(arguments) changed the vault")
                #expect(readBytes(e.box.keyPath) == damagedKey, "\(c.name): \(arguments) changed the key file")
            }
            var after = stat()
            lstat(e.box.vaultPath, &after)
            #expect(after.st_mode == before.st_mode && after.st_ino == before.st_ino, "\(c.name): the vault file was replaced")
            #expect(try e.provider.stats().token_requests == requests, "\(c.name): a token was requested")
            e.expectNoSecret(results, seed: seed)

            c.restore(e, vault, key)
            try e.expectWorks(c.name)
        }
    }

    /// A format-1 vault with no records, valid under `formatOneKey` (made by an earlier
    /// tokenrun, whose `tokenrun-fuzz seeds` wrote it as the vault seed "empty").
    static let formatOneVault = Array(
        ("TOKENRUN-VAULT 1\n"
            + "{\"created_at\":1700000000,\"key_id\":\"s35F1CoD/7soJSYMo0Omjg==\",\"key_source\":\"key_file\","
            + "\"public_key\":\"cu0wy90g2W8QhaH+SQacdAe+07166nduokPSxp8OZz8=\",\"records\":[],"
            + "\"wrapped_secret_key\":\"s9agf3FV6IpH3ZIAoVbGKp4UbIVeOAKHQCWUVtyKjo/dhOfNhejPXwbS/RhRUX981iamWG4AKhvDDPiPXz3fGJZOaJbiuhcf\"}\n"
            + "mac 1A8YUzvSWbx851ViVbGoCX6wt4+HOMUoOXF/BeLT5og=\n").utf8)
    static let formatOneKey = Array("tokenrun-fuzz-fixed-vault-key-32".utf8)

    @Test("a vault of format 1 exits 78 as an unsupported version, and no command rewrites it")
    func formatOne() throws {
        let e = try EndToEnd()
        e.box.write(path: e.box.keyPath, bytes: Self.formatOneKey)
        e.box.write(path: e.box.vaultPath, bytes: Self.formatOneVault)
        let seed = try e.provider.seed()
        let vault = e.box.vaultPath
        var results: [CLIResult] = []
        for arguments in [
            ["-p", "demo", "--", e.python, e.child, "--url", e.provider.url], ["get", "-p", "demo"], ["status"],
            ["vault", "status"], ["import", "-p", "demo", "--refresh-token-stdin"],
        ] {
            let result = e.box.run(arguments, stdin: seed.refresh_token + "\n")
            results.append(result)
            #expect(result.status == 78, "\(arguments): \(result.all)")
            #expect(
                result.stderr.hasPrefix(
                    "tokenrun: error: the vault \(vault) has format version 1, older than this tokenrun reads (2); it was left untouched\n"),
                "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains(
                    "\ntokenrun: hint: move it aside, make a new vault and log in again: mv \(vault) \(vault).v1 && tokenrun vault init"),
                "\(arguments): \(result.stderr)")
            #expect(readBytes(vault) == Self.formatOneVault, "\(arguments) changed the vault")
        }
        #expect(try e.provider.stats().token_requests == 0, "a token was requested")
        e.expectNoSecret(results, seed: seed)
    }
}
