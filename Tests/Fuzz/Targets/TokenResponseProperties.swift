// Properties of reading a token endpoint's answer, for any status, headers and
// body:
// - a grant comes only from a 2xx answer, and holds tokens with no space or
//   control character, a plausible lifetime and a printable token type;
// - anything else is a TokenEndpointError whose explanation is fit for a
//   terminal, and the tokens of a rejected answer are never quoted in it;
// - the same answer always reads the same way.
//
// Input layout: byte 0 picks the status, byte 1 holds flags; then, one line
// each when its flag is set, the Content-Type (else one from a list picked by
// the flags' high bits), Location, Retry-After and Date headers; the rest is
// the body.
import TokenrunKit

public enum TokenResponseProperties {
    static let url = "https://auth.example.test/oauth/token"
    static let statuses = [200, 200, 200, 201, 204, 299, 400, 401, 403, 404, 302, 307, 408, 429, 500, 503]
    static let contentTypes: [String?] = [
        "application/json", "application/json; charset=utf-8", "text/html; charset=utf-8", "text/plain", nil,
        "application/x-www-form-urlencoded", "application/problem+json", "",
    ]

    static let dictionary = [
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "0", "-1", "3600", "1e400", "-0", "3.5", "1e-400",
        "316224001", "\"access_token\":", "\"refresh_token\":", "\"id_token\":", "\"token_type\":", "\"expires_in\":", "\"scope\":",
        "\"error\":", "\"error_description\":", "\"invalid_grant\"", "\"invalid_client\"", "\"slow_down\"",
        "\"temporarily_unavailable\"", "\"Bearer\"", "\"SECRET-token\"", "\\u0000", "\\u001b", "\\n", "\\ud800", "<html>",
        "<!DOCTYPE html>", "\u{FEFF}", "\n", "\r\n", " ", "Mon, 01 Jan 2024 00:00:00 GMT",
    ]

    /// A response decoded from fuzz input.
    public static func response(from bytes: [UInt8]) -> HTTPResponse {
        var rest = bytes[...]
        let status = statuses[Int(rest.popFirst() ?? 0) % statuses.count]
        let flags = rest.popFirst() ?? 0
        func line() -> String {
            let end = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
            let text = String(decoding: rest[..<end], as: UTF8.self)
            rest = end < rest.endIndex ? rest[(end + 1)...] : rest[end...]
            return text
        }
        var headers: [(String, String)] = []
        if flags & 1 != 0 {
            headers.append(("Content-Type", line()))
        } else if let type = contentTypes[Int(flags >> 5) % contentTypes.count] {
            headers.append(("Content-Type", type))
        }
        if flags & 2 != 0 { headers.append(("Location", line())) }
        if flags & 4 != 0 { headers.append(("Retry-After", line())) }
        if flags & 8 != 0 { headers.append(("Date", line())) }
        return HTTPResponse(status: status, headers: headers, body: Array(rest))
    }

    static func check(_ bytes: [UInt8], _ expect: inout Expectations) {
        let response = response(from: bytes)
        let first = read(response)
        if response.header("Retry-After") == nil {
            // An HTTP-date Retry-After is relative to the clock, so only answers without one must repeat exactly.
            expect.expect(read(response) == first, "the same answer read twice gave different results")
        }
        if let date = response.header("Date") { _ = HTTPDate.parse(date) }
        switch first {
        case .success(let grant):
            expect.expect((200..<300).contains(response.status), "a grant from HTTP \(response.status)")
            expectToken(grant.accessToken.value, "access_token", &expect)
            if let token = grant.refreshToken { expectToken(token.value, "refresh_token", &expect) }
            if let token = grant.idToken { expectToken(token.value, "id_token", &expect) }
            if let lifetime = grant.expiresIn {
                expect.expect((1...316_224_000).contains(lifetime), "a grant with an implausible expires_in of \(lifetime)")
            }
            expect.expectPrintable(grant.tokenType, "the token type")
        case .failure(let error):
            let explanation = error.explanation
            expect.expect(!explanation.isEmpty, "an error without an explanation: \(error)")
            expect.expectPrintable(explanation, "the explanation of \(error.errorClass)")
            expect.expectPrintable(error.errorClass, "the audit trail's error class")
            for secret in secrets(in: response) where explanation.contains(secret) {
                expect.expect(false, "the explanation quotes a token of the answer: \(explanation.debugDescription)")
            }
            let summary = TokenrunError.providerUnavailable(profile: "fuzz", reason: explanation, attempts: 1)
            expect.expectPrintable(summary, "the message of a failed refresh")
        }
    }

    static func read(_ response: HTTPResponse) -> Result<TokenGrant, TokenEndpointError> {
        Result { () throws(TokenEndpointError) -> TokenGrant in try TokenEndpoint.interpret(response, url: url) }
    }

    static func expectToken(_ value: String, _ name: String, _ expect: inout Expectations) {
        expect.expect(!value.isEmpty, "an empty \(name) was accepted")
        let bad = value.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7F }
        expect.expect(!bad, "a \(name) with a space or control character was accepted: \(value.debugDescription)")
    }

    /// Token values of the body (at least 6 characters long) that appear nowhere
    /// else a message may quote: the error fields, token_type, expires_in, the headers.
    static func secrets(in response: HTTPResponse) -> [String] {
        guard case .object(let object)? = JSONValue.parse(response.body) else { return [] }
        var shown = response.headers.map(\.1)
        for key in ["error", "error_description", "token_type", "expires_in"] {
            if case .string(let text)? = object[key] { shown.append(text) }
        }
        return ["access_token", "refresh_token", "id_token"].compactMap { key in
            guard case .string(let value)? = object[key], value.count >= 6 else { return nil }
            return shown.contains { $0.contains(value) } ? nil : value
        }
    }
}
