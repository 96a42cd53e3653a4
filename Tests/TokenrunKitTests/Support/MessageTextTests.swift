import Testing
@testable import TokenrunKit

@Suite("message text")
struct MessageTextTests {
    @Test("quoted text escapes quotes, backslashes and control characters as TOML does")
    func quotedEscapes() {
        #expect(MessageText.quoted("plain") == #""plain""#)
        #expect(MessageText.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(MessageText.quoted("\u{1B}[31mred\nhint: x\u{7F}") == #""\u001B[31mred\nhint: x\u007F""#)
        #expect(MessageText.quoted("tök€n") == #""tök€n""#)
    }

    @Test("quoted text is cut once its escaped form passes the limit, with … after the quote")
    func quotedCut() {
        #expect(MessageText.quoted(String(repeating: "x", count: 100)) == "\"" + String(repeating: "x", count: 100) + "\"")
        #expect(MessageText.quoted(String(repeating: "x", count: 101)) == "\"" + String(repeating: "x", count: 100) + "\"…")
        // Escapes count as written: ten \U0010FFFF are 100 characters, the eleventh is cut.
        let escaped = MessageText.quoted(String(repeating: "\u{10FFFF}", count: 11))
        #expect(escaped == "\"" + String(repeating: "\\U0010FFFF", count: 10) + "\"…")
        #expect(MessageText.quoted("abcdef", limit: 3) == #""abc"…"#)
    }

    @Test("cleaned text has spaces for control characters and is cut after the limit")
    func cleaned() {
        #expect(MessageText.cleaned("text/plain\u{0B}\u{1B}[31m") == "text/plain  [31m")
        #expect(MessageText.cleaned(String(repeating: "y", count: 300)) == String(repeating: "y", count: 200) + "…")
    }
}
