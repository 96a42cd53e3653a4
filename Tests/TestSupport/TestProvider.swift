// The real OAuth 2.0 provider of Tests/Provider (Authlib), started on
// 127.0.0.1 with a free port for one test and stopped when released.
import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

public final class TestProvider: @unchecked Sendable {
    public let url: String
    /// One https URL per leaf given to `init(in:tls:)`, in that order: the same app and state as `url`.
    public let tlsURLs: [String]
    private let process: RunningProcess
    private let sandbox: CLISandbox
    private var stopped = false

    /// The repository's root, from this file's path.
    public static let repository: String = {
        let file = #filePath
        return String(file[..<file.firstRange(of: "/Tests/TestSupport/")!.lowerBound])
    }()

    /// The Python with the provider's requirements: $TOKENRUN_TEST_PYTHON or .venv-test/bin/python.
    public static let python: String = {
        if let value = getenv("TOKENRUN_TEST_PYTHON") { return String(cString: value) }
        return repository + "/.venv-test/bin/python"
    }()

    public static var childScript: String { repository + "/Tests/Provider/child.py" }

    /// Starts a provider, and an https listener for each of `tls` beside its plain-http one;
    /// fails if it does not come up within 20 s.
    public init(in sandbox: CLISandbox, tls: [TestCA.Leaf] = []) throws {
        self.sandbox = sandbox
        guard access(Self.python, X_OK) == 0 else { throw ProviderError.noPython(Self.python) }
        let tlsArguments = tls.flatMap { ["--tls", $0.certFile, $0.keyFile] }
        process = sandbox.start(
            [Self.repository + "/Tests/Provider/provider.py", "--port", "0"] + tlsArguments, program: Self.python)
        var found: String?
        var lines: [Substring] = []
        for _ in 0..<400 {
            lines = process.stdoutSoFar.split(separator: "\n")
            if let line = lines.first(where: { $0.hasPrefix("READY ") }) {
                found = String(line.dropFirst("READY ".count))
                break
            }
            usleep(50_000)
        }
        // The TLS lines come before READY, so all of them are there now.
        let tlsFound = lines.filter { $0.hasPrefix("TLS ") }.map { String($0.dropFirst("TLS ".count)) }
        guard let found, tlsFound.count == tls.count else {
            process.signal(SIGKILL)
            let result = process.wait()
            throw ProviderError.didNotStart(result.stdout + result.stderr)
        }
        url = found
        tlsURLs = tlsFound
    }

    public enum ProviderError: Error, CustomStringConvertible {
        case noPython(String)
        case didNotStart(String)
        case badAnswer(String)

        public var description: String {
            switch self {
            case .noPython(let path): "no Python at \(path): run `make test` (it creates .venv-test) or set TOKENRUN_TEST_PYTHON"
            case .didNotStart(let stderr): "the provider did not start: \(stderr)"
            case .badAnswer(let text): "unexpected provider answer: \(text)"
            }
        }
    }

    /// Stops the provider (SIGTERM), as if it went down.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        process.signal(SIGTERM)
        _ = process.wait()
    }

    deinit { stop() }

    public var tokenEndpoint: String { url + "/oauth/token" }

    /// The token endpoint on the `index`th https listener.
    public func tlsTokenEndpoint(_ index: Int = 0) -> String { tlsURLs[index] + "/oauth/token" }

    public struct Seed: Decodable, Sendable {
        public let access_token: String
        public let refresh_token: String
        public let expires_in: Int
    }

    /// Creates a grant as if a login had happened.
    public func seed(
        client: String = "tokenrun-test", user: String = "alice", scope: String = "api.read offline_access", accessExpiresIn: Int = 0
    ) throws -> Seed {
        let body = #"{"client_id":"\#(client)","user":"\#(user)","scope":"\#(scope)","access_expires_in":\#(accessExpiresIn)}"#
        return try decode(Seed.self, post("/test/seed", body))
    }

    public struct Stats: Decodable, Sendable {
        public let token_requests: Int
        public let refresh_requests: Int
        public let refresh_success: Int
        public let reuse_events: Int
        public let api_requests: Int
        public let api_ok: Int
        public let revocations: Int
        public let revocation_requests: Int
        public let authorize_requests: Int
        public let device_authorizations: Int
        public let last_token_request: LastRequest?

        public struct LastRequest: Decodable, Sendable {
            public let auth_method: String?
            public let client_id: String?
            public let grant_type: String?
        }
    }

    public func stats() throws -> Stats {
        guard let response = LoopbackHTTP.request("GET", url + "/test/stats") else { throw ProviderError.badAnswer("no answer") }
        return try decode(Stats.self, response.body)
    }

    /// The status /api/me answers for `token` (200: the provider accepts it), or nil without an answer.
    public func apiStatus(token: String) -> Int? {
        LoopbackHTTP.request("GET", url + "/api/me", headers: [("Authorization", "Bearer " + token)])?.status
    }

    /// Queues a fault for the next token requests; `json` is the body of /test/fault.
    public func fault(_ json: String) throws { _ = try post("/test/fault", json) }

    /// Changes lifetimes, rotation or clock skew; `json` is the body of /test/config.
    public func config(_ json: String) throws { _ = try post("/test/config", json) }

    /// Approves (or denies) a device login, as the user would on the verification page.
    public func decideDevice(userCode: String, approve: Bool = true) throws {
        _ = try post("/test/device/\(approve ? "approve" : "deny")", #"{"user_code":"\#(userCode)"}"#)
    }

    public func revokeUser(_ user: String) throws { _ = try post("/test/revoke-user", #"{"user":"\#(user)"}"#) }

    @discardableResult
    func post(_ path: String, _ json: String) throws -> String {
        guard let response = LoopbackHTTP.request("POST", url + path, json: json), (200..<300).contains(response.status) else {
            throw ProviderError.badAnswer("POST \(path) failed")
        }
        return response.body
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw ProviderError.badAnswer(text)
        }
    }
}
