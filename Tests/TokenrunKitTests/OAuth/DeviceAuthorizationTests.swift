import Testing
@testable import TokenrunOAuth

/// Runs `DeviceAuthorization.interpret` on a response built from parts.
private func interpret(
    _ status: Int, _ body: String, contentType: String = "application/json"
) -> Result<DeviceAuthorization, TokenEndpointError> {
    let response = HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(body.utf8))
    return Result { () throws(TokenEndpointError) -> DeviceAuthorization in
        try DeviceAuthorization.interpret(response, url: "https://auth.example.test/oauth/device")
    }
}

private extension Result where Failure == TokenEndpointError {
    var failure: TokenEndpointError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite("device authorization: reading the answer")
struct DeviceAuthorizationTests {
    static let base = #""device_code":"dc-SECRET","user_code":"WDJB-MJHT""#

    @Test("RFC 8628 §3.2: codes, verification_uri, verification_uri_complete, expires_in and interval")
    func complete() throws {
        let answer = try interpret(
            200,
            #"{\#(Self.base),"verification_uri":"https://example.com/device","#
                + #""verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT","expires_in":1800,"interval":7}"#
        ).get()
        #expect(answer.deviceCode.value == "dc-SECRET")
        #expect(answer.userCode == "WDJB-MJHT")
        #expect(answer.verificationURI == "https://example.com/device")
        #expect(answer.verificationURIComplete == "https://example.com/device?user_code=WDJB-MJHT")
        #expect(answer.expiresIn == 1800)
        #expect(answer.interval == 7)
    }

    @Test("Google's verification_url is read as the verification URI")
    func googleSpelling() throws {
        let answer = try interpret(200, #"{\#(Self.base),"verification_url":"https://www.google.com/device","expires_in":1800}"#).get()
        #expect(answer.verificationURI == "https://www.google.com/device")
        #expect(answer.verificationURIComplete == nil)
    }

    @Test("without interval and expires_in: 5 s between polls and 10 minutes to answer")
    func defaults() throws {
        let answer = try interpret(200, #"{\#(Self.base),"verification_uri":"https://example.com/device"}"#).get()
        #expect(answer.interval == 5)
        #expect(answer.expiresIn == 600)
    }

    @Test(
        "the interval is at least 1 s; numbers may come as strings",
        arguments: [
            (#""interval":0"#, 1), (#""interval":1"#, 1), (#""interval":"3""#, 3), (#""interval":"0""#, 1), (#""interval":2.9"#, 2),
            (#""interval":"soon""#, 5), (#""interval":null"#, 5),
        ] as [(String, Int64)])
    func interval(_ field: String, _ expected: Int64) throws {
        let answer = try interpret(200, #"{\#(Self.base),"verification_uri":"https://e.example/d",\#(field)}"#).get()
        #expect(answer.interval == expected)
    }

    @Test("expires_in may come as a string")
    func expiresInString() throws {
        let answer = try interpret(200, #"{\#(Self.base),"verification_uri":"https://e.example/d","expires_in":"900"}"#).get()
        #expect(answer.expiresIn == 900)
    }

    @Test(
        "an answer without device_code, user_code or verification URI is unreadable, and the device code is not quoted",
        arguments: [
            #"{"user_code":"WDJB-MJHT","verification_uri":"https://e.example/d"}"#,
            #"{"device_code":"dc-SECRET","verification_uri":"https://e.example/d"}"#,
            #"{"device_code":"","user_code":"WDJB-MJHT","verification_uri":"https://e.example/d"}"#,
            #"{"device_code":42,"user_code":"WDJB-MJHT","verification_uri":"https://e.example/d"}"#,
            #"{"device_code":"dc-SECRET","user_code":"WDJB-MJHT"}"#,
            #"["device_code"]"#,
        ])
    func missingFields(_ body: String) throws {
        guard case .unreadable(let reason)? = interpret(200, body).failure else {
            Issue.record("expected unreadable for \(body)")
            return
        }
        #expect(!reason.contains("SECRET"))
    }

    @Test(
        "an OAuth error answer maps to its TokenEndpointError",
        arguments: [
            (
                400, #"{"error":"invalid_client","error_description":"Unknown client"}"#,
                TokenEndpointError.invalidClient(description: "Unknown client")
            ),
            (401, #"{"error":"invalid_client"}"#, .invalidClient(description: nil)),
            (400, #"{"error":"invalid_scope"}"#, .invalidScope(description: nil)),
            (400, #"{"error":"unauthorized_client"}"#, .unauthorizedClient(description: nil)),
            (400, #"{"error":"invalid_request"}"#, .other(code: "invalid_request", description: nil, status: 400)),
        ] as [(Int, String, TokenEndpointError)])
    func oauthErrors(_ status: Int, _ body: String, _ expected: TokenEndpointError) {
        #expect(interpret(status, body).failure == expected)
    }

    @Test("a 5xx answer is transient")
    func serverError() {
        #expect(interpret(503, "", contentType: "text/plain").failure?.isTransient == true)
    }

    @Test("an HTML page is quoted as HTML: unreadable at 200, a refusal at 404", arguments: [200, 404])
    func html(_ status: Int) throws {
        let failure = interpret(status, "<html><title>Portal</title></html>", contentType: "text/html").failure
        let reason: String
        switch failure {
        case .unreadable(let text)? where status == 200: reason = text
        case .refused(_, let text)? where status == 404: reason = text
        default:
            Issue.record("unexpected \(String(describing: failure))")
            return
        }
        #expect(reason.contains("HTML"))
        #expect(reason.contains("HTTP \(status)"))
    }

    @Test("the user code and URIs are cleaned of control characters before they are shown")
    func sanitized() throws {
        let answer = try interpret(
            200, #"{"device_code":"dc","user_code":"AB\u001b[2JCD","verification_uri":"https://e.example/d\u0007"}"#
        ).get()
        #expect(answer.userCode == "AB [2JCD")
        #expect(answer.verificationURI == "https://e.example/d ")
    }

    @Test("the device code is a secret: printing the answer never shows it")
    func deviceCodeHidden() throws {
        let answer = try interpret(200, #"{\#(Self.base),"verification_uri":"https://e.example/d"}"#).get()
        #expect(!String(describing: answer).contains("dc-SECRET"))
    }
}
