import FoundationEssentials
import Testing
@testable import TokenrunOAuth
@testable import TokenrunSupport

@Suite("OAuth encodings: form bodies, HTTP dates, Retry-After, JSON values")
struct OAuthEncodingTests {
    @Test(
        "form escaping keeps only RFC 3986 unreserved characters",
        arguments: [
            ("abcXYZ019-._~", "abcXYZ019-._~"), ("a b", "a%20b"), ("a+b", "a%2Bb"), ("a&b=c", "a%26b%3Dc"), ("1//0g", "1%2F%2F0g"),
            ("é", "%C3%A9"), ("%", "%25"), ("\n", "%0A"), ("", ""),
        ])
    func escape(_ input: String, _ expected: String) {
        #expect(FormEncoding.escape(input) == expected)
    }

    @Test("a form body keeps field order and round-trips through a form decoder")
    func encode() {
        let fields = [("grant_type", "refresh_token"), ("refresh_token", "1//0g+x y&z=é"), ("client_id", "c")]
        let body = FormEncoding.encode(fields)
        #expect(body == "grant_type=refresh_token&refresh_token=1%2F%2F0g%2Bx%20y%26z%3D%C3%A9&client_id=c")
        let decoded = body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return [FormDecoding.decode(parts[0]), FormDecoding.decode(parts[1])]
        }
        #expect(decoded == fields.map { [$0.0, $0.1] })
    }

    @Test("Basic client credentials are base64 of the form-encoded id and secret")
    func basicAuthorization() {
        // base64("client:secret")
        #expect(FormEncoding.basicAuthorization(clientID: "client", secret: "secret") == "Basic Y2xpZW50OnNlY3JldA==")
        // base64("a%3Ab:c%3Ad") — a colon in the id must not split it
        #expect(FormEncoding.basicAuthorization(clientID: "a:b", secret: "c:d") == "Basic YSUzQWI6YyUzQWQ=")
    }

    @Test(
        "HTTP dates in IMF-fixdate form parse; other forms do not",
        arguments: [
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777), ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Tue, 14 Nov 2023 22:13:20 GMT", 1_700_000_000), ("Sunday, 06-Nov-94 08:49:37 GMT", nil),
            ("Sun Nov  6 08:49:37 1994", nil), ("Sun, 06 Nov 1994 08:49:37 UTC", nil), ("Sun, 06 Foo 1994 08:49:37 GMT", nil),
            ("Sun, 06 Nov 1994 08:49 GMT", nil), ("", nil),
        ] as [(String, Int64?)])
    func httpDate(_ text: String, _ expected: Int64?) {
        #expect(HTTPDate.parse(text) == expected)
    }

    @Test(
        "Retry-After is delay-seconds or an HTTP date relative to now (never negative)",
        arguments: [
            ("5", 5), (" 30 ", 30), ("0", 0), ("-1", nil), ("1.5", nil), ("later", nil), ("", nil),
            ("Tue, 14 Nov 2023 22:15:20 GMT", 120), ("Tue, 14 Nov 2023 22:13:20 GMT", 0), ("Tue, 14 Nov 2023 22:00:00 GMT", 0),
        ] as [(String, Int?)])
    func retryAfter(_ text: String, _ expected: Int?) {
        #expect(RetryAfter.seconds(text, now: 1_700_000_000) == expected)
    }

    @Test("JSON values keep their types; numbers are not read as booleans")
    func jsonValue() throws {
        let value = try #require(JSONValue.parse(Array(#"{"n":1,"z":0,"f":1.5,"b":true,"s":"1","a":[null],"o":{}}"#.utf8)))
        // Whole numbers stay exact integers (JSONReader); others are doubles.
        #expect(
            value
                == .object([
                    "n": .integer(1), "z": .integer(0), "f": .number(1.5), "b": .bool(true), "s": .string("1"), "a": .array([.null]),
                    "o": .object([:]),
                ]))
        #expect(JSONValue.parse(Array("{".utf8)) == nil)
        #expect(JSONValue.parse([]) == nil)
        #expect(JSONValue.parse(Array("nul".utf8)) == nil)
    }
}
