// `run --serve` gives the child a token server on 127.0.0.1,
// guarded by a per-launch secret, that also speaks the GCE metadata protocol
// — tested with Google's own google-auth library from PyPI.
import TestSupport
import Testing

@Suite("end to end: the token server of run --serve")
struct TokenServerTests {
    /// google.auth.default() finds "GCE" through GCE_METADATA_HOST; the child calls the API for
    /// `seconds`, letting google-auth refresh its credentials before each call, and counts the answers.
    static let googleChild = """
        import json, sys, time
        import google.auth, google.auth.transport.requests, requests
        url, seconds = sys.argv[1], float(sys.argv[2])
        credentials, project = google.auth.default()
        transport = google.auth.transport.requests.Request()
        codes, tokens = {}, set()
        end = time.time() + seconds
        while time.time() < end:
            headers = {}
            credentials.before_request(transport, "GET", url + "/api/me", headers)
            tokens.add(headers["authorization"])
            code = requests.get(url + "/api/me", headers=headers, timeout=5).status_code
            codes[str(code)] = codes.get(str(code), 0) + 1
            time.sleep(0.3)
        print(json.dumps({"codes": codes, "tokens": len(tokens), "kind": type(credentials).__module__}))
        """

    @Test("google-auth in the child refreshes through tokenrun over three token lifetimes, with no 401")
    func googleAuth() throws {
        let e = try EndToEnd(extra: "[refresh]\nwindow = \"2s\"")
        try e.provider.config(#"{"access_token_lifetime": 4}"#)
        try e.login()
        let result = e.box.run(["run", "--serve", "-p", "demo", "--", e.python, "-c", Self.googleChild, e.provider.url, "13"])
        #expect(result.status == 0, "\(result.all)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.contains("google.auth.compute_engine"), "\(summary)")
        #expect(!summary.contains("\"401\""), "\(summary)")
        #expect(summary.contains("\"200\""), "\(summary)")
        let tokens = Int(summary.split(separator: "\"tokens\": ").last?.prefix { $0.isNumber } ?? "0") ?? 0
        #expect(tokens >= 3, "\(summary)")
        #expect(try e.provider.stats().reuse_events == 0)
    }

    @Test("the token server refuses a missing or wrong secret, wants Metadata-Flavor on the metadata paths, and listens on 127.0.0.1 only")
    func refusals() throws {
        let e = try EndToEnd()
        try e.login()
        let script = """
            u=$TOKENRUN_TOKEN_URL; s=$TOKENRUN_TOKEN_SECRET; m=http://$GCE_METADATA_HOST/computeMetadata/v1/instance/service-accounts/default/token
            case "$u" in http://127.0.0.1:*) echo loopback;; esac
            curl -s -o /dev/null -w 'none %{http_code}\\n' "$u"
            curl -s -o /dev/null -w 'wrong %{http_code}\\n' -H "Authorization: Bearer x$s" "$u"
            curl -s -o /dev/null -w 'flavorless %{http_code}\\n' "$m"
            curl -s -w '\\nright %{http_code}\\n' -H "Authorization: Bearer $s" "$u"
            curl -s -w '\\nmetadata %{http_code}\\n' -H 'Metadata-Flavor: Google' "$m"
            """
        let result = e.box.run(["run", "--serve", "-p", "demo", "--", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.all)")
        let out = result.stdout
        #expect(out.contains("loopback\n"))
        #expect(out.contains("none 401\n"))
        #expect(out.contains("wrong 401\n"))
        #expect(out.contains("flavorless 403\n"))
        #expect(out.contains("right 200\n"))
        #expect(out.contains("metadata 200\n"))
        #expect(out.contains("\"access_token\":\""))
        #expect(out.contains("\"token_type\":\"Bearer\""))
        #expect(!result.stderr.contains("access_token"))
    }
}

@Suite("end to end: the token server answers concurrently")
struct TokenServerConcurrencyTests {
    /// Waits for demo's token to expire, slows the provider's next token request by 3 s,
    /// then asks for demo's token three times at once and, 0.5 s later, for other's;
    /// prints the order the answers came in and the distinct demo tokens.
    static let child = """
        import json, os, sys, threading, time, urllib.request
        provider = sys.argv[1]
        url, secret = os.environ["TOKENRUN_TOKEN_URL"], os.environ["TOKENRUN_TOKEN_SECRET"]
        time.sleep(3.5)
        fault = urllib.request.Request(provider + "/test/fault", data=b'{"kind":"delay","seconds":3,"count":1}',
                                       headers={"Content-Type": "application/json"})
        urllib.request.urlopen(fault).read()
        order, tokens, lock = [], {}, threading.Lock()
        def ask(name, tag):
            request = urllib.request.Request(url + "?profile=" + name, headers={"Authorization": "Bearer " + secret})
            body = json.loads(urllib.request.urlopen(request, timeout=30).read())
            with lock:
                order.append(tag)
                tokens.setdefault(name, set()).add(body["access_token"])
        threads = [threading.Thread(target=ask, args=("demo", "demo%d" % i)) for i in range(3)]
        for t in threads: t.start()
        time.sleep(0.5)
        other = threading.Thread(target=ask, args=("other", "other"))
        other.start()
        for t in threads + [other]: t.join()
        print(json.dumps({"order": order, "demo_tokens": len(tokens["demo"])}))
        """

    @Test("regression: a refresh in the token server makes requests for that profile wait for it, and never holds up another profile's")
    func concurrentRequests() throws {
        let e = try EndToEnd()
        try e.login()
        try RefreshLeaseTests.addFreshOther(e)
        try e.provider.config(#"{"access_token_lifetime": 3}"#)
        let before = try e.provider.stats().token_requests
        let result = e.box.run(
            ["run", "--serve", "-p", "demo", "-p", "other", "--", e.python, "-c", Self.child, e.provider.url])
        #expect(result.status == 0, "\(result.all)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasPrefix("{\"order\": [\"other\""), "other's answer came after a demo answer: \(summary)")
        #expect(summary.contains("\"demo_tokens\": 1"), "\(summary)")
        // The launch's refresh of demo and one more for the three requests.
        #expect(try e.provider.stats().token_requests == before + 2)
        #expect(try e.provider.stats().reuse_events == 0)
    }
}
