import Testing

@testable import TokenrunSupport

@Suite("JSON reader")
struct JSONReaderTests {
    func parse(_ text: String) throws(JSONReadError) -> JSONValue { try JSONReader.parse(Array(text.utf8)) }

    @Test("values, escapes and surrogate pairs read as JSONDecoder would")
    func values() throws {
        let value = try parse(#" {"a": [1, -2.5e1, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} "#)
        let members = try #require(value.members)
        #expect(members["a"] == .array([.integer(1), .number(-25), .bool(true), .bool(false), .null]))
        #expect(members["s"] == .string("x\"\\/\né😀"))
        #expect(members["o"] == .object([:]))
        #expect(try parse("9007199254740992").int64Value == 9_007_199_254_740_992)
        #expect(try parse("1.5").int64Value == nil)
    }

    @Test("integers beyond 2^53 read exactly, up to the ends of Int64; larger ones are numbers, never wrapped")
    func exactIntegers() throws {
        #expect(try parse("9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try parse("9007199254740993").int64Value == 9_007_199_254_740_993)
        #expect(try parse("9223372036854775807").int64Value == Int64.max)
        #expect(try parse("-9223372036854775808").int64Value == Int64.min)
        #expect(try parse("-0") == .integer(0))
        #expect(try parse("9223372036854775808").int64Value == nil)
        #expect(try parse("-9223372036854775809").int64Value == nil)
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
        // A fraction or an exponent is a number; a whole one small enough still reads as an Int64.
        #expect(try parse("1e3") == .number(1000))
        #expect(try parse("1e3").int64Value == 1000)
        #expect(try parse("12.0").int64Value == 12)
        let object = try JSONObjectReader(try parse(#"{"expires_at": 9007199254740993, "seq": 18446744073709551615}"#))
        #expect(try object.int64("expires_at") == 9_007_199_254_740_993)
        #expect(throws: JSONReadError(offset: 0, reason: "wrong type at seq")) { _ = try object.optionalUInt64("seq") }
    }

    @Test(
        "malformed documents are refused",
        arguments: [
            "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "-", "1.", "1e", "tru", "\"a", "\"\\x\"", "\"\\ud83d\"",
            "\"\u{01}\"", "{} {}", "{\"a\":1,\"a\":2}", "nan", "1e999",
        ])
    func malformed(_ text: String) {
        #expect(throws: JSONReadError.self) { _ = try parse(text) }
    }

    @Test("invalid UTF-8 and nesting deeper than 64 levels are refused without crashing")
    func hostile() {
        #expect(throws: JSONReadError.self) { _ = try JSONReader.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONReadError.self) { _ = try parse(String(repeating: "[", count: 100_000)) }
        #expect((try? parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60))) != nil)
    }

    @Test("typed members name the first missing or mistyped key")
    func typedMembers() throws {
        let object = try JSONObjectReader(try parse(#"{"s": "x", "n": 3, "l": ["a"], "z": null}"#))
        #expect(try object.string("s") == "x")
        #expect(try object.optionalString("z") == nil)
        #expect(try object.int64("n") == 3)
        #expect(try object.optionalStrings("l") == ["a"])
        #expect(throws: JSONReadError(offset: 0, reason: "missing \"q\"")) { _ = try object.string("q") }
        #expect(throws: JSONReadError(offset: 0, reason: "wrong type at n")) { _ = try object.string("n") }
        #expect(throws: JSONReadError(offset: 0, reason: "wrong type at s")) { _ = try object.optionalUInt64("s") }
    }
}
