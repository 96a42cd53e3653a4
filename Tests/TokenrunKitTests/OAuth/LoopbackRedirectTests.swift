import Testing
@testable import TokenrunOAuth
@testable import TokenrunSupport

/// A real listening socket on 127.0.0.1 and a plain socket client as the browser.
@Suite("login: the loopback redirect listener")
struct LoopbackRedirectTests {
    /// Generous: the wait ends as soon as the callback arrives, so this only bounds a broken test.
    static let patience: Int64 = 10_000

    static func now() -> Int64 { Monotonic.milliseconds() }

    static func wait(_ listener: LoopbackRedirect, forMs ms: Int64 = patience) throws(LoopbackRedirect.Failure) -> LoopbackRedirect.Callback
    {
        try listener.waitForCallback(deadline: now() + ms, now: { Self.now() })
    }

    @Test(
        "port 0 picks a free port; the redirect URI is http://127.0.0.1:PORT/ or http://localhost:PORT (no path, as Microsoft registers it)"
    )
    func redirectURI() throws {
        let listener = try LoopbackRedirect()
        #expect((1...65535).contains(listener.port))
        #expect(listener.redirectURI() == "http://127.0.0.1:\(listener.port)/")
        #expect(listener.redirectURI(host: "localhost") == "http://localhost:\(listener.port)")
        #expect(LoopbackClient.canConnect(port: listener.port))
    }

    @Test("the browser's GET /?code=…&state=… returns the decoded parameters")
    func callback() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background { try LoopbackClient.get(port: port, "/?code=4%2F0Ab+c&state=xyz&scope=a%20b&iss=https%3A%2F%2Fx") }
        let callback = try Self.wait(listener)
        #expect(callback.code == "4/0Ab c")
        #expect(callback.state == "xyz")
        #expect(callback.error == nil)
        #expect(callback.parameters["scope"] == "a b")
        #expect(callback.parameters["iss"] == "https://x")
        listener.finish(callback, success: true, title: "Logged in", message: "done")
        #expect(try browser.value().hasPrefix("HTTP/1.1 200 "))
    }

    @Test("the first of repeated parameters wins")
    func repeatedParameters() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background { try LoopbackClient.get(port: port, "/?state=first&code=one&state=second&code=two") }
        let callback = try Self.wait(listener)
        #expect(callback.code == "one")
        #expect(callback.state == "first")
        listener.finish(callback, success: true, title: "t", message: "m")
        _ = try browser.value()
    }

    @Test("an error redirect (error=access_denied) is a callback too, with its description cleaned")
    func errorCallback() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background {
            try LoopbackClient.get(port: port, "/?error=access_denied&error_description=The+user+said+%1B%5B31mno&state=xyz")
        }
        let callback = try Self.wait(listener)
        #expect(callback.code == nil)
        #expect(callback.error == "access_denied")
        #expect(callback.errorDescription == "The user said  [31mno")
        listener.finish(callback, success: false, title: "Login not completed", message: "refused")
        #expect(try browser.value().hasPrefix("HTTP/1.1 400 "))
    }

    @Test("requests without code or error (a favicon, a bare /) get a 404 and the wait goes on")
    func otherRequestsIgnored() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background {
            let favicon = try LoopbackClient.get(port: port, "/favicon.ico")
            let root = try LoopbackClient.get(port: port, "/?state=xyz")
            let callback = try LoopbackClient.get(port: port, "/?code=abc&state=xyz")
            return [favicon, root, callback]
        }
        let callback = try Self.wait(listener)
        #expect(callback.code == "abc")
        listener.finish(callback, success: true, title: "Logged in", message: "ok")
        let answers = try browser.value()
        #expect(answers[0].hasPrefix("HTTP/1.1 404 "))
        #expect(answers[1].hasPrefix("HTTP/1.1 404 "))
        #expect(answers[2].hasPrefix("HTTP/1.1 200 "))
    }

    @Test("a request that is not a GET is answered 405 and the wait goes on")
    func postIgnored() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background {
            let post = try LoopbackClient.send(
                port: port, "POST /?code=forged&state=xyz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            let get = try LoopbackClient.get(port: port, "/?code=real&state=xyz")
            return [post, get]
        }
        let callback = try Self.wait(listener)
        #expect(callback.code == "real")
        listener.finish(callback, success: true, title: "Logged in", message: "ok")
        let answers = try browser.value()
        #expect(answers[0].hasPrefix("HTTP/1.1 405 "))
    }

    @Test("a connection that sends nothing (a browser's preconnect) does not hold up the callback")
    func preconnect() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let idle = try LoopbackClient.Connection(port: port)
        let browser = Background { try LoopbackClient.get(port: port, "/?code=abc&state=xyz") }
        let callback = try Self.wait(listener)
        #expect(callback.code == "abc")
        listener.finish(callback, success: true, title: "Logged in", message: "ok")
        #expect(try browser.value().hasPrefix("HTTP/1.1 200 "))
        _ = idle
    }

    @Test("a request that arrives in pieces is kept across waits and read once it is whole")
    func requestInPieces() throws {
        let listener = try LoopbackRedirect()
        let connection = try LoopbackClient.Connection(port: listener.port)
        try connection.send("GET /?code=abc&sta")
        // Half a request line is not a callback: the wait ends at its deadline.
        #expect(throws: LoopbackRedirect.Failure.timedOut) { try Self.wait(listener, forMs: 300) }
        try connection.send("te=xyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let callback = try Self.wait(listener)
        #expect(callback.code == "abc")
        #expect(callback.state == "xyz")
        listener.finish(callback, success: true, title: "Logged in", message: "ok")
        #expect(try connection.readToEnd().hasPrefix("HTTP/1.1 200 "))
    }

    @Test("a callback that is never finished is closed with the listener, so the browser is not left waiting")
    func unfinishedCallbackClosed() throws {
        let connection: LoopbackClient.Connection
        do {
            let listener = try LoopbackRedirect()
            connection = try LoopbackClient.Connection(port: listener.port, readTimeout: 2)
            try connection.send(LoopbackClient.request("/?code=abc&state=xyz", port: listener.port))
            _ = try Self.wait(listener)
        }
        // readToEnd throws when the read times out (2 s): the listener left the connection open.
        var answer: String?
        #expect(throws: Never.self) { answer = try connection.readToEnd() }
        #expect(answer == "", "the connection is closed without an answer")
    }

    @Test("finish answers a small no-store HTML page, with the title and message escaped, and closes the connection")
    func finishPage() throws {
        let listener = try LoopbackRedirect()
        let port = listener.port
        let browser = Background { try LoopbackClient.get(port: port, "/?code=abc&state=xyz") }
        let callback = try Self.wait(listener)
        listener.finish(callback, success: true, title: "Logged <in> & \"done\"", message: "<script>alert(1)</script>")
        let answer = try browser.value()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let parts = answer.split(separator: "\r\n\r\n", maxSplits: 1)
        let head = String(parts[0]).lowercased()
        let body = parts.count > 1 ? String(parts[1]) : ""
        #expect(head.contains("content-type: text/html"))
        #expect(head.contains("cache-control: no-store"))
        #expect(head.contains("content-length: \(body.utf8.count)"))
        #expect(body.contains("<title>tokenrun: Logged &lt;in&gt; &amp; &quot;done&quot;</title>"))
        #expect(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!body.contains("<script>"))
    }

    @Test("no callback before the deadline: timedOut")
    func timesOut() throws {
        let listener = try LoopbackRedirect()
        #expect(throws: LoopbackRedirect.Failure.timedOut) { try Self.wait(listener, forMs: 200) }
    }

    @Test("only non-callback requests before the deadline: still timedOut")
    func timesOutAfterNoise() throws {
        let browser: Background<String>
        do {
            let listener = try LoopbackRedirect()
            let port = listener.port
            browser = Background { try LoopbackClient.get(port: port, "/favicon.ico") }
            #expect(throws: LoopbackRedirect.Failure.timedOut) { try Self.wait(listener, forMs: 300) }
        }
        // The favicon request was answered (404) or, if it came late, cut off when the listener closed.
        _ = try? browser.value()
    }

    @Test("binding a port already in use throws portInUse with that port")
    func portInUse() throws {
        let first = try LoopbackRedirect()
        #expect(throws: LoopbackRedirect.Failure.portInUse(first.port)) { try LoopbackRedirect(port: first.port) }
        #expect(LoopbackClient.canConnect(port: first.port))
    }

    @Test("a fixed port is used as given")
    func fixedPort() throws {
        // Find a free port, release it, then ask for it by number.
        let port = try LoopbackRedirect().port
        let listener = try LoopbackRedirect(port: port)
        #expect(listener.port == port)
        #expect(listener.redirectURI() == "http://127.0.0.1:\(port)/")
    }
}
