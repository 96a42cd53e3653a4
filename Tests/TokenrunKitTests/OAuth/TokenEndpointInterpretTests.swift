import FoundationEssentials
import Testing
@testable import TokenrunOAuth
@testable import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `TokenEndpoint.interpret` on a response built from parts.
private func interpret(
    _ status: Int, _ body: String, contentType: String? = "application/json", headers: [(String, String)] = []
) -> Result<TokenGrant, TokenEndpointError> {
    let all = (contentType.map { [("Content-Type", $0)] } ?? []) + headers
    let response = HTTPResponse(status: status, headers: all, body: Array(body.utf8))
    return Result { () throws(TokenEndpointError) -> TokenGrant in
        try TokenEndpoint.interpret(response, url: TokenEndpointInterpretTests.url)
    }
}

private extension Result where Failure == TokenEndpointError {
    var failure: TokenEndpointError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    /// The reason of an `.unreadable` failure.
    var unreadableReason: String? {
        if case .failure(.unreadable(let reason)) = self { return reason }
        return nil
    }

    var refusalReason: String? {
        if case .failure(.refused(_, let reason)) = self { return reason }
        return nil
    }
}

@Suite("token endpoint: reading the answer")
struct TokenEndpointInterpretTests {
    static let url = "https://auth.example.test/oauth/token"

    @Test("regression: HTTP 401 without a JSON body means the client was rejected (exit 78, not 'retry later')")
    func bare401() {
        for body in ["", "Unauthorized"] {
            #expect(interpret(401, body, contentType: "text/plain").failure == .invalidClient(description: nil))
        }
    }

    @Test(
        "regression: bodies that are not JSON or HTML are never quoted (they may be a token in another format)",
        arguments: [
            ("access_token=gho_SECRET123&scope=repo&token_type=bearer", "application/x-www-form-urlencoded"),
            ("\u{FEFF}{\"access_token\":\"ya29.SECRET\",", "application/json"),
            ("\"ya29.SECRET\"", "application/json"),
        ])
    func nonJSONNotQuoted(_ body: String, _ contentType: String) throws {
        let reason = try #require(interpret(200, body, contentType: contentType).unreadableReason)
        #expect(!reason.contains("SECRET"))
    }

    // MARK: success

    @Test("a token response without a refresh token: no rotation")
    func successWithoutRotation() throws {
        let grant = try interpret(200, #"{"access_token":"ya29.at","token_type":"Bearer","expires_in":3599,"scope":"a b"}"#).get()
        #expect(grant.accessToken.value == "ya29.at")
        #expect(grant.tokenType == "Bearer")
        #expect(grant.expiresIn == 3599)
        #expect(grant.refreshToken == nil)
        #expect(grant.scope == "a b")
        #expect(grant.idToken == nil)
    }

    @Test("a token response with a new refresh token and an id token")
    func successWithRotation() throws {
        let grant = try interpret(
            200, #"{"access_token":"at2","token_type":"bearer","expires_in":60,"refresh_token":"rt2","id_token":"eyJ.x.y"}"#
        ).get()
        #expect(grant.refreshToken?.value == "rt2")
        #expect(grant.idToken?.value == "eyJ.x.y")
        #expect(grant.expiresIn == 60)
    }

    @Test("a null refresh_token means no rotation")
    func nullRefreshToken() throws {
        let grant = try interpret(200, #"{"access_token":"at","refresh_token":null}"#).get()
        #expect(grant.refreshToken == nil)
    }

    @Test("any 2xx status carries a token")
    func otherSuccessStatus() throws {
        #expect(try interpret(201, #"{"access_token":"at"}"#).get().accessToken.value == "at")
    }

    // MARK: expires_in

    struct ExpiresCase: Sendable, CustomTestStringConvertible {
        let json: String?
        let expected: Int64?
        var valid: Bool
        var testDescription: String { "expires_in: \(json ?? "(missing)") → \(valid ? expected.map(String.init) ?? "nil" : "unreadable")" }

        static func ok(_ json: String?, _ expected: Int64?) -> Self { Self(json: json, expected: expected, valid: true) }
        static func bad(_ json: String) -> Self { Self(json: json, expected: nil, valid: false) }
    }

    @Test(
        "expires_in is read as a number, a numeric string, or absent; implausible values are refused",
        arguments: [
            ExpiresCase.ok("3600", 3600),
            .ok("1", 1),
            .ok(#""3600""#, 3600),
            .ok(nil, nil),
            .ok("null", nil),
            .ok("3599.9", 3599),
            .ok("3.6e3", 3600),
            .ok("316224000", 316_224_000),  // exactly 10 × 366 days
            .bad("0"),
            .bad("-1"),
            .bad(#""-60""#),
            .bad(#""0""#),
            .bad("316224001"),
            .bad("99999999999"),
            .bad("1e300"),
            .bad(#""3600s""#),
            .bad(#""""#),
            .bad("true"),
            .bad("[3600]"),
            .bad(#"{"seconds":3600}"#),
        ])
    func expiresIn(_ c: ExpiresCase) throws {
        let field = c.json.map { #","expires_in":\#($0)"# } ?? ""
        let result = interpret(200, #"{"access_token":"at"\#(field)}"#)
        if c.valid {
            #expect(try result.get().expiresIn == c.expected)
        } else {
            let reason = try #require(result.unreadableReason, "expected unreadable, got \(result)")
            #expect(reason.contains("expires_in"))
        }
    }

    // MARK: access_token

    @Test(
        "a response without a usable access_token is unreadable",
        arguments: [
            #"{"token_type":"Bearer","expires_in":3600}"#,
            #"{"access_token":null}"#,
            #"{"access_token":""}"#,
            #"{"access_token":12345}"#,
            #"{"access_token":["a"]}"#,
            #"{}"#,
        ])
    func missingAccessToken(_ body: String) throws {
        let reason = try #require(interpret(200, body).unreadableReason)
        #expect(reason.contains("access_token"))
    }

    @Test(
        "an access_token with spaces or control characters is refused, and not echoed",
        arguments: [
            #"ya29.SECRET part"#, #"ya29.SECRET\tpart"#, #"ya29.SECRET\npart"#, #"ya29.SECRET\u0000part"#,
            #"ya29.SECRET\u007fpart"#, #"ya29.SECRET\u001bpart"#, #" ya29.SECRETpart"#,
        ])
    func accessTokenWithControlCharacters(_ token: String) throws {
        let reason = try #require(interpret(200, #"{"access_token":"\#(token)","expires_in":3600}"#).unreadableReason)
        #expect(reason.contains("access_token"))
        #expect(reason.contains("spaces or control characters"))
        #expect(!reason.contains("SECRET"))
    }

    @Test("a refresh_token with a space is refused too")
    func refreshTokenWithSpace() throws {
        let reason = try #require(interpret(200, #"{"access_token":"at","refresh_token":"rt SECRET"}"#).unreadableReason)
        #expect(reason.contains("refresh_token"))
        #expect(!reason.contains("SECRET"))
    }

    @Test("non-ASCII access tokens are kept as they are")
    func unicodeAccessToken() throws {
        #expect(try interpret(200, #"{"access_token":"tök€n"}"#).get().accessToken.value == "tök€n")
    }

    // MARK: token_type

    @Test(
        "token_type: any case of bearer becomes Bearer, missing means Bearer, others are kept",
        arguments: [
            (#","token_type":"bearer""#, "Bearer"), (#","token_type":"BEARER""#, "Bearer"), (#","token_type":"Bearer""#, "Bearer"),
            ("", "Bearer"), (#","token_type":null"#, "Bearer"), (#","token_type":"MAC""#, "MAC"), (#","token_type":"N_A""#, "N_A"),
            (#","token_type":"DPoP""#, "DPoP"), (#","token_type":"a\u0007b""#, "a b"),
        ])
    func tokenType(_ field: String, _ expected: String) throws {
        #expect(try interpret(200, #"{"access_token":"at"\#(field)}"#).get().tokenType == expected)
    }

    @Test("a token_type that is not a string is unreadable")
    func tokenTypeWrongType() throws {
        let reason = try #require(interpret(200, #"{"access_token":"at","token_type":1}"#).unreadableReason)
        #expect(reason.contains("token_type"))
    }

    // MARK: OAuth errors

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let code: String
        let status: Int
        let expected: TokenEndpointError
        var testDescription: String { "\(code) (HTTP \(status))" }
    }

    @Test(
        "each RFC 6749 §5.2 error code maps to its case, with the provider's description",
        arguments: [
            ErrorCase(code: "invalid_grant", status: 400, expected: .invalidGrant(description: "Token has been expired or revoked.")),
            ErrorCase(code: "invalid_client", status: 400, expected: .invalidClient(description: "Token has been expired or revoked.")),
            ErrorCase(code: "invalid_client", status: 401, expected: .invalidClient(description: "Token has been expired or revoked.")),
            ErrorCase(code: "unauthorized", status: 401, expected: .invalidClient(description: "Token has been expired or revoked.")),
            ErrorCase(code: "invalid_scope", status: 400, expected: .invalidScope(description: "Token has been expired or revoked.")),
            ErrorCase(
                code: "unauthorized_client", status: 400, expected: .unauthorizedClient(description: "Token has been expired or revoked.")),
            ErrorCase(
                code: "unsupported_grant_type", status: 400,
                expected: .unsupportedGrantType(description: "Token has been expired or revoked.")),
            ErrorCase(code: "expired_token", status: 400, expected: .expiredToken(description: "Token has been expired or revoked.")),
            ErrorCase(code: "access_denied", status: 403, expected: .accessDenied(description: "Token has been expired or revoked.")),
            ErrorCase(code: "authorization_pending", status: 400, expected: .authorizationPending),
            ErrorCase(code: "slow_down", status: 400, expected: .slowDown(retryAfter: nil)),
            ErrorCase(
                code: "invalid_request", status: 400,
                expected: .other(code: "invalid_request", description: "Token has been expired or revoked.", status: 400)),
            // Some providers (GitHub) answer errors with HTTP 200.
            ErrorCase(code: "invalid_grant", status: 200, expected: .invalidGrant(description: "Token has been expired or revoked.")),
        ])
    func errorCodes(_ c: ErrorCase) {
        let result = interpret(c.status, #"{"error":"\#(c.code)","error_description":"Token has been expired or revoked."}"#)
        #expect(result.failure == c.expected)
    }

    @Test("an error without a description maps with a nil description")
    func errorWithoutDescription() {
        #expect(interpret(400, #"{"error":"invalid_grant"}"#).failure == .invalidGrant(description: nil))
    }

    @Test("only invalid_grant and expired_token mean the refresh token is dead; neither is transient")
    func errorProperties() {
        let dead: [TokenEndpointError] = [.invalidGrant(description: nil), .expiredToken(description: nil)]
        let configuration: [TokenEndpointError] = [
            .invalidClient(description: nil), .invalidScope(description: nil), .unauthorizedClient(description: nil),
            .unsupportedGrantType(description: nil), .other(code: "x", description: nil, status: 400),
        ]
        for error in dead {
            #expect(error.refreshTokenIsDead)
            #expect(!error.isTransient)
        }
        for error in configuration {
            #expect(!error.refreshTokenIsDead)
            #expect(!error.isTransient)
        }
        #expect(TokenEndpointError.transient(reason: "x", retryAfter: nil).isTransient)
        #expect(TokenEndpointError.other(code: "weird_code", description: nil, status: 400).errorClass == "weird_code")
    }

    @Test(
        "server_error and temporarily_unavailable are transient",
        arguments: ["server_error", "temporarily_unavailable"])
    func transientCodes(_ code: String) {
        guard case .transient(let reason, _)? = interpret(400, #"{"error":"\#(code)"}"#).failure else {
            Issue.record("expected transient")
            return
        }
        #expect(reason.contains(code))
    }

    @Test("the provider's error description and code are cleaned of control characters and cut to 200 characters")
    func descriptionSanitized() throws {
        let long = String(repeating: "x", count: 500)
        #expect(
            interpret(400, #"{"error":"invalid_grant","error_description":"bad\u001b[31m\nthing"}"#).failure
                == .invalidGrant(description: "bad [31m thing"))
        guard case .invalidGrant(let description)? = interpret(400, #"{"error":"invalid_grant","error_description":"\#(long)"}"#).failure
        else {
            Issue.record("expected invalid_grant")
            return
        }
        #expect(description == String(repeating: "x", count: 200) + "…")
        #expect(interpret(400, #"{"error":"odd\ncode"}"#).failure == .other(code: "odd code", description: nil, status: 400))
    }

    @Test("HTTP 401 with a JSON body that is not an OAuth error is invalid_client")
    func status401JSON() {
        #expect(interpret(401, #"{"message":"Unauthorized"}"#).failure == .invalidClient(description: nil))
    }

    @Test("regression: a 4xx JSON answer without an OAuth error code is a refusal, not a passing failure", arguments: [400, 403, 404])
    func jsonNeitherTokenNorError(_ status: Int) throws {
        let reason = try #require(interpret(status, #"{"access_token":"ya29.SECRET"}"#).refusalReason)
        #expect(reason.contains("HTTP \(status)"))
        #expect(reason.contains("JSON without an OAuth error code"))
        #expect(!reason.contains("SECRET"))
    }

    @Test(
        "regression: a 4xx with an empty body, HTML or other text is a refusal naming what came back",
        arguments: [
            (400, "", "text/plain", "an empty body"),
            (400, "  \r\n", "text/plain", "an empty body"),
            (403, "<html><title>Forbidden</title></html>", "text/html", "HTML page"),
            (400, "access_token=gho_SECRET123&scope=repo", "application/x-www-form-urlencoded", "bytes that are not JSON"),
            (400, "{\"access_token\":\"ya29.SECRET\",", "application/json", "bytes that are not JSON"),
            (400, "[1,2]", "application/json", "JSON without an OAuth error code"),
            (400, #"{"error":{"code":"disabled"}}"#, "application/json", "JSON without an OAuth error code"),
        ] as [(Int, String, String, String)])
    func refusalWithoutCode(_ status: Int, _ body: String, _ contentType: String, _ says: String) throws {
        let result = interpret(status, body, contentType: contentType)
        guard case .failure(.refused(let code, let reason)) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(code == status)
        #expect(reason.contains("HTTP \(status)"))
        #expect(reason.contains(says), "\(reason)")
        #expect(!reason.contains("SECRET"))
        #expect(result.failure?.refreshTokenIsDead == true)
        #expect(result.failure?.isTransient == false)
    }

    @Test("a 404 refusal asks whether token_endpoint is right")
    func notFoundNamesEndpoint() throws {
        let reason = try #require(interpret(404, "", contentType: "text/plain").refusalReason)
        #expect(reason.contains("token_endpoint (\(Self.url))"))
    }

    @Test("a 407 is the proxy's answer: unreadable (temporary), not a refusal of the refresh token")
    func proxyAuthentication() throws {
        let reason = try #require(interpret(407, "", contentType: "text/plain").unreadableReason)
        #expect(reason.contains("HTTP 407"))
        #expect(reason.contains("https_proxy"))
    }

    // MARK: transient statuses

    @Test("429, 408 and 5xx are transient, whatever the body", arguments: [408, 429, 500, 502, 503, 504, 599])
    func transientStatus(_ status: Int) {
        guard case .transient(let reason, let retryAfter)? = interpret(status, #"{"error":"invalid_grant"}"#).failure else {
            Issue.record("expected transient for HTTP \(status)")
            return
        }
        #expect(reason.contains("HTTP \(status)"))
        #expect(retryAfter == nil)
    }

    @Test(
        "Retry-After in seconds is honoured",
        arguments: [("0", 0), ("2", 2), ("120", 120), (" 7 ", 7), ("soon", nil), ("-3", nil)] as [(String, Int?)])
    func retryAfterSeconds(_ header: String, _ expected: Int?) {
        let result = interpret(503, "", contentType: "text/plain", headers: [("Retry-After", header)])
        guard case .transient(let reason, let retryAfter)? = result.failure else {
            Issue.record("expected transient")
            return
        }
        #expect(retryAfter == expected)
        if let expected { #expect(reason.contains("Retry-After: \(expected) s")) }
    }

    @Test("Retry-After as an HTTP date gives the seconds until then")
    func retryAfterDate() {
        // `interpret` compares an HTTP-date Retry-After with the real clock.
        let when = ProcessEnvironment.now() + 120
        let result = interpret(429, "", contentType: nil, headers: [("retry-after", Self.httpDate(when))])
        guard case .transient(_, let retryAfter?)? = result.failure else {
            Issue.record("expected transient with a Retry-After, got \(result)")
            return
        }
        #expect((115...120).contains(retryAfter))
    }

    @Test("a 503 JSON error still honours Retry-After through temporarily_unavailable")
    func retryAfterOnOAuthError() {
        let result = interpret(400, #"{"error":"temporarily_unavailable"}"#, headers: [("Retry-After", "5")])
        guard case .transient(_, let retryAfter)? = result.failure else {
            Issue.record("expected transient")
            return
        }
        #expect(retryAfter == 5)
    }

    // MARK: redirects and bodies that are not token responses

    @Test("a redirect is unreadable and names where it pointed", arguments: [301, 302, 303, 307, 308])
    func redirect(_ status: Int) throws {
        let reason = try #require(
            interpret(status, "", contentType: "text/html", headers: [("Location", "https://login.example.test/portal?x=1")])
                .unreadableReason)
        #expect(reason.contains("https://login.example.test/portal?x=1"))
        #expect(reason.contains("HTTP \(status)"))
        #expect(reason.contains("redirect"))
    }

    @Test("a redirect without Location says so")
    func redirectWithoutLocation() throws {
        let reason = try #require(interpret(302, "").unreadableReason)
        #expect(reason.contains("nowhere"))
    }

    @Test("HTTP 200 with an HTML page is unreadable, says HTML and quotes the start of the page")
    func htmlPage() throws {
        let page =
            "<html><head><title>Sign in to Wi-Fi</title></head><body>" + String(repeating: "lorem ipsum ", count: 50) + "</body></html>"
        let reason = try #require(interpret(200, page, contentType: "text/html; charset=utf-8").unreadableReason)
        #expect(reason.contains("HTML"))
        #expect(reason.contains(#""<html><head><title>Sign in to Wi-Fi</title>"#))
        #expect(reason.contains("text/html"))
        #expect(reason.contains(Self.url))
        #expect(!reason.contains("</body>"), "only the start of the page is quoted")
        #expect(reason.count < 400)
    }

    @Test("a plain-text body is described by size and content type, not quoted")
    func plainText() throws {
        let reason = try #require(interpret(200, "Service\u{1b}[0m\nunavailable", contentType: "text/plain").unreadableReason)
        #expect(reason.contains("23 bytes that are not JSON (text/plain)"))
        #expect(!reason.contains("Service"))
    }

    @Test("an HTML page's quote has its control characters replaced")
    func htmlControlCharacters() throws {
        let reason = try #require(interpret(200, "<p>Service\u{1b}[0m\nunavailable", contentType: "text/html").unreadableReason)
        #expect(reason.contains("<p>Service [0m unavailable"))
    }

    @Test(
        "malformed or truncated JSON is unreadable and never quotes the body",
        arguments: [
            #"{"access_token":"ya29.SECRET-TOKEN-abcdef","expires_in":36"#,
            #"{"access_token":"ya29.SECRET-TOKEN-abcdef""#,
            "  \n\t{\"access_token\": \"ya29.SECRET-TOKEN-abcdef\" \"expires_in\": 3600}",
            #"[{"access_token":"ya29.SECRET-TOKEN-abcdef"}"#,
            #"{"access_token":ya29.SECRET-TOKEN-abcdef}"#,
        ])
    func malformedJSON(_ body: String) throws {
        for contentType in ["application/json", "text/html"] {
            let reason = try #require(interpret(200, body, contentType: contentType).unreadableReason)
            #expect(reason.contains("malformed or truncated JSON"))
            #expect(reason.contains("\(body.utf8.count) bytes"))
            #expect(!reason.contains("SECRET"))
            #expect(!reason.contains("ya29"))
        }
    }

    @Test(
        "JSON that is not an object is unreadable and names its type",
        arguments: [("[1,2]", "an array"), (#""ya29.SECRET""#, "a string"), ("42", "a number"), ("null", "null"), ("true", "a boolean")])
    func nonObjectJSON(_ body: String, _ typeName: String) throws {
        let reason = try #require(interpret(200, body).unreadableReason)
        #expect(reason.contains(typeName))
        #expect(!reason.contains("SECRET"))
    }

    @Test("an empty 200 is unreadable and says so", arguments: [200, 204])
    func emptyBody(_ status: Int) throws {
        let reason = try #require(interpret(status, "", contentType: nil).unreadableReason)
        #expect(reason.contains("empty body"))
        #expect(reason.contains("HTTP \(status)"))
        #expect(reason.contains("no content type"))
    }

    // MARK: found by fuzzing (Tests/Fuzz/regressions/token-response)

    @Test("regression: a Content-Type with control characters is quoted cleaned and cut, never raw")
    func contentTypeCleaned() throws {
        let hostile = "text/plain\u{0B}\u{1B}[31m" + String(repeating: "x", count: 3000)
        let reason = try #require(interpret(200, "", contentType: hostile).unreadableReason)
        #expect(!reason.unicodeScalars.contains { $0.value < 0x20 })
        #expect(reason.contains("(text/plain  [31mxxx"))
        #expect(reason.count < 400)
    }

    @Test("regression: a redirect's Location with an escape sequence is quoted cleaned and cut, never raw")
    func locationCleaned() throws {
        let hostile = "https://portal.example.test/\u{1B}[2J\u{1B}[1A" + String(repeating: "y", count: 3000)
        let reason = try #require(interpret(302, "", headers: [("Location", hostile)]).unreadableReason)
        #expect(!reason.unicodeScalars.contains { $0.value < 0x20 })
        #expect(reason.contains("https://portal.example.test/ [2J [1Ayyy"))
        #expect(reason.count < 500)
    }

    @Test(
        "JSON a strict reader refuses is called malformed, never quoted",
        arguments: [
            #"{"access_token":"ya29.SECRET","expires_in":1e400}"#,
            String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
            #"{"access_token":"ya29.SECRET\ud800"}"#,
        ])
    func strictJSON(_ body: String) throws {
        let reason = try #require(interpret(200, body).unreadableReason)
        #expect(reason.contains("malformed or truncated JSON"))
        #expect(!reason.contains("SECRET"))
    }

    @Test("a repeated key in a token response is read, not refused: the first one counts (Foundation's JSON reader)")
    func repeatedKey() throws {
        let grant = try interpret(200, #"{"access_token":"first","access_token":"second","expires_in":60}"#).get()
        #expect(grant.accessToken.value == "first")
    }

    /// IMF-fixdate for `seconds` since 1970.
    static func httpDate(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(HTTPDate.months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
