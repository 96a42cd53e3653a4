// tokenrun talking https to the provider, whose certificates come from the
// tests' private CA (TestCA): what it trusts (the system store, SSL_CERT_FILE,
// SSL_CERT_DIR, ca_file), what it says when it trusts nothing, and every
// command that reaches the network doing so over https.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: TLS trust")
struct TLSTests {
    let ca: TestCA

    init() throws { ca = try TestCA.shared() }

    var trustCA: [String: String] { ["SSL_CERT_FILE": ca.caFile] }

    /// A demo profile whose token endpoint is served over https with `leaf`, and a grant whose access token is dead.
    func makeDemo(_ leaf: TestCA.Leaf, oauth: String = "") throws -> EndToEnd {
        let e = try EndToEnd(oauth: "client_id = \"tokenrun-test\"\nclient_secret = \"test-secret\"\n" + oauth, tls: leaf)
        try e.login()
        return e
    }

    // MARK: the test infrastructure itself

    @Test("infrastructure: the provider's https listener answers curl --cacert with the test CA; curl without it refuses")
    func infrastructure() throws {
        let e = try EndToEnd(tls: ca.good)
        let url = try #require(e.provider.tlsURLs.first)
        #expect(url.hasPrefix("https://127.0.0.1:"))
        let metadata = "\(url)/.well-known/oauth-authorization-server"
        let trusted = e.box.run(["-sS", "--cacert", ca.caFile, metadata], program: "/usr/bin/curl")
        #expect(trusted.status == 0, "\(trusted.all)")
        #expect(trusted.stdout.contains("\"token_endpoint\":\"\(url)/oauth/token\""), "\(trusted.stdout)")
        let byDirectory = e.box.run(["-sS", "--capath", ca.certDir, metadata], program: "/usr/bin/curl")
        #expect(byDirectory.status == 0, "\(byDirectory.all)")
        let untrusted = e.box.run(["-sS", metadata], program: "/usr/bin/curl")
        #expect(untrusted.status == 60, "\(untrusted.all)")  // CURLE_PEER_FAILED_VERIFICATION
        // The same state behind both listeners: a seed over http is a grant the https endpoint refreshes.
        let seed = try e.provider.seed()
        let refreshed = e.box.run(
            [
                "-sS", "--cacert", ca.caFile, "-u", "tokenrun-test:test-secret", "-d", "grant_type=refresh_token",
                "-d", "refresh_token=\(seed.refresh_token)", "\(url)/oauth/token",
            ], program: "/usr/bin/curl")
        #expect(refreshed.stdout.contains("\"access_token\""), "\(refreshed.all)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("infrastructure: the bad certificates fail curl's verification for the reason each is made for")
    func infrastructureBadCertificates() throws {
        let box = CLISandbox()
        let provider = try TestProvider(in: box, tls: [ca.expired, ca.wrongName, ca.otherIssuer])
        let reasons = [
            "certificate has expired", "no alternative certificate subject name matches", "unable to get local issuer certificate",
        ]
        for (url, reason) in zip(provider.tlsURLs, reasons) {
            let result = box.run(["-sS", "--cacert", ca.caFile, url + "/device"], program: "/usr/bin/curl")
            #expect(result.status == 60, "\(url): \(result.all)")
            #expect(result.stderr.contains(reason), "\(url): \(result.stderr)")
        }
    }

    // MARK: what is trusted

    @Test("no trust for a private CA: exit 78 naming 127.0.0.1 and the unknown issuer, fixes ca_file and SSL_CERT_FILE; nothing sent")
    func noTrust() throws {
        let e = try makeDemo(ca.good)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(result.stderr.contains("unknown issuer"), "\(result.stderr)")
        #expect(result.stderr.contains("ca_file"), "\(result.stderr)")
        #expect(result.stderr.contains("SSL_CERT_FILE"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
        #expect(!result.stdout.contains("\"status\""))  // the child never ran
    }

    @Test("SSL_CERT_FILE naming the CA: the refresh over https succeeds and the child's API call works")
    func sslCertFile() throws {
        let e = try makeDemo(ca.good)
        let result = e.launch(environment: trustCA)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("\"user\": \"alice\""), "\(result.stdout)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("SSL_CERT_DIR naming a hashed directory with the CA: the refresh over https succeeds")
    func sslCertDir() throws {
        let e = try makeDemo(ca.good)
        let result = e.launch(environment: ["SSL_CERT_DIR": ca.certDir])
        #expect(result.status == 0, "\(result.all)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    @Test("ca_file in the profile's [oauth] table: the refresh over https succeeds with no variable set")
    func profileCAFile() throws {
        let e = try makeDemo(ca.good, oauth: "ca_file = \"\(ca.caFile)\"")
        let result = e.launch()
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("\"user\": \"alice\""), "\(result.stdout)")
        #expect(try e.provider.stats().refresh_success == 1)
    }

    // MARK: certificates that must be refused

    @Test("an expired certificate: exit 78, the error says expired and names the host; nothing is sent")
    func expiredCertificate() throws {
        let e = try makeDemo(ca.expired)
        let result = e.launch(environment: trustCA)
        #expect(result.status == 78, "\(result.all)")
        // About the certificate: a failed refresh also says that the access token has expired.
        #expect(result.stderr.replacing("access token has expired", with: "").contains("expired"), "\(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("a certificate for another name: exit 78, the error says it does not match 127.0.0.1; nothing is sent")
    func wrongName() throws {
        let e = try makeDemo(ca.wrongName)
        let result = e.launch(environment: trustCA)
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("name"), "\(result.stderr)")
        #expect(result.stderr.contains("match"), "\(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("a certificate from a CA not trusted, with SSL_CERT_FILE naming another: exit 78 unknown issuer; nothing is sent")
    func otherIssuer() throws {
        let e = try makeDemo(ca.otherIssuer)
        let result = e.launch(environment: trustCA)
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("unknown issuer"), "\(result.stderr)")
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("SSL_CERT_FILE naming a file that does not exist: exit 78 naming SSL_CERT_FILE and the file; nothing is sent")
    func missingCAFile() throws {
        let e = try makeDemo(ca.good)
        let missing = e.box.root + "/no-such-ca.pem"
        let result = e.launch(environment: ["SSL_CERT_FILE": missing])
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("SSL_CERT_FILE=\(missing)"), "\(result.stderr)")
        #expect(result.stderr.contains("cannot load the trusted CAs"), "\(result.stderr)")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("the profile's ca_file wins over SSL_CERT_FILE: another CA there makes the certificate unknown")
    func profileCAFileFirst() throws {
        let e = try makeDemo(ca.good, oauth: "ca_file = \"\(ca.otherCAFile)\"")
        let result = e.launch(environment: trustCA)
        #expect(result.status == 78, "\(result.all)")
        #expect(result.stderr.contains("unknown issuer"), "\(result.stderr)")
        #expect(result.stderr.contains("the profile's ca_file \(ca.otherCAFile)"), "\(result.stderr)")
    }

    @Test("SSLKEYLOGFILE in tokenrun's environment does not reach the helper: no TLS secrets are written")
    func noKeyLog() throws {
        let e = try makeDemo(ca.good)
        let keyLog = e.box.root + "/tls-keys.log"
        let result = e.launch(environment: trustCA.merging(["SSLKEYLOGFILE": keyLog]) { $1 })
        #expect(result.status == 0, "\(result.all)")
        #expect(try e.provider.stats().refresh_success == 1)
        #expect(access(keyLog, F_OK) != 0, "the helper wrote TLS secrets to \(keyLog)")
    }

    // MARK: every network command over https

    @Test("PKCE login over https: the authorization code is exchanged at the https token endpoint, then run refreshes there")
    func pkceLogin() throws {
        let s = try LoginSetup(tls: ca.good)
        let (result, page) = try s.browserLogin(environment: trustCA)
        #expect(result.status == 0, "\(result.all)")
        #expect(page?.status == 200)
        #expect(try s.provider.stats().last_token_request?.grant_type == "authorization_code")
        #expect(s.status().contains("connected"))
        let run = s.e.launch(flags: ["run", "--refresh"], environment: trustCA)
        #expect(run.status == 0, "\(run.all)")
        #expect(try s.provider.stats().refresh_success == 1)
    }

    @Test("device login over https: the device authorization and the polling go to the https endpoints")
    func deviceLogin() throws {
        let s = try LoginSetup(tls: ca.good)
        let process = s.box.start(["login", "-p", "demo", "--device"], environment: trustCA)
        let code = try s.userCode(of: process)
        // The provider builds verification_uri from the request, so it shows the https listener.
        #expect(process.stderrSoFar.contains("\(s.provider.tlsURLs[0])/device"), "\(process.stderrSoFar)")
        try s.provider.decideDevice(userCode: code)
        let result = process.wait()
        #expect(result.status == 0, "\(result.all)")
        let stats = try s.provider.stats()
        #expect(stats.device_authorizations == 1)
        #expect(stats.last_token_request?.grant_type == "urn:ietf:params:oauth:grant-type:device_code")
        #expect(s.status().contains("connected"))
    }

    @Test("revoke over https: the grant is revoked at the https revocation endpoint")
    func revoke() throws {
        let s = try LoginSetup(tls: ca.good)
        let seed = try s.provider.seed(client: "tokenrun-public")
        #expect(s.box.run(["import", "-p", "demo", "--refresh-token-stdin"], stdin: seed.refresh_token).status == 0)
        let result = s.box.run(["revoke", "-p", "demo"], environment: trustCA)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("revoked at \(s.provider.tlsURLs[0])/oauth/revoke"), "\(result.stdout)")
        let stats = try s.provider.stats()
        #expect(stats.revocation_requests == 1)
        #expect(stats.revocations == 1)
    }

    @Test("doctor over https with SSL_CERT_FILE: the endpoint probe passes")
    func doctorTrusted() throws {
        let e = try makeDemo(ca.good)
        let result = e.box.run(["doctor", "-p", "demo"], environment: trustCA)
        let reachable = try #require(DoctorEndToEndTests.row(result, "endpoint.demo.reachable"), "\(result.all)")
        #expect(reachable.status == "pass", "\(result.stdout)")
        #expect(DoctorEndToEndTests.status(result, "endpoint.demo.clock") == "pass", "\(result.stdout)")
        #expect(DoctorEndToEndTests.status(result, "endpoint.demo.tls") != "fail", "\(result.stdout)")
        #expect(try e.provider.stats().last_token_request?.grant_type == "tokenrun_doctor_probe")
    }

    @Test("doctor over https trusting nothing: endpoint.demo.tls fails and its fix names ca_file")
    func doctorUntrusted() throws {
        let e = try makeDemo(ca.good)
        let result = e.box.run(["doctor", "-p", "demo"])
        #expect(result.status == 1, "\(result.all)")
        let tls = try #require(DoctorEndToEndTests.row(result, "endpoint.demo.tls"), "\(result.stdout)")
        #expect(tls.status == "fail")
        #expect(tls.line.contains("127.0.0.1"), "\(tls.line)")
        #expect(tls.fix?.contains("ca_file") == true, "\(tls.fix ?? "no fix")")
        #expect(try e.provider.stats().token_requests == 0)
    }

    @Test("git-credential over https: git's clone gets a token the helper refreshed at the https endpoint")
    func gitCredential() throws {
        let g = try GitCredentialTests.GitSetup(tls: ca.good)
        try g.e.login()
        let result = g.clone(into: "clone", environment: trustCA)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("hello from the test server"))
        #expect(try g.e.provider.stats().refresh_success == 1)
    }
}
