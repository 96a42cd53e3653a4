import Testing
@testable import TokenrunSupport

@Suite("message text")
struct MessageTextTests {
    @Test("quoted text escapes quotes, backslashes and control characters as TOML does")
    func quotedEscapes() {
        #expect(Quoting.message("plain") == #""plain""#)
        #expect(Quoting.message("a\"b\\c") == #""a\"b\\c""#)
        #expect(Quoting.message("\u{1B}[31mred\nhint: x\u{7F}") == #""\u001B[31mred\nhint: x\u007F""#)
        #expect(Quoting.message("tök€n") == #""tök€n""#)
    }

    @Test("quoted text is cut once its escaped form passes the limit, with … after the quote")
    func quotedCut() {
        #expect(Quoting.message(String(repeating: "x", count: 100)) == "\"" + String(repeating: "x", count: 100) + "\"")
        #expect(Quoting.message(String(repeating: "x", count: 101)) == "\"" + String(repeating: "x", count: 100) + "\"…")
        // Escapes count as written: ten \U0010FFFF are 100 characters, the eleventh is cut.
        let escaped = Quoting.message(String(repeating: "\u{10FFFF}", count: 11))
        #expect(escaped == "\"" + String(repeating: "\\U0010FFFF", count: 10) + "\"…")
        #expect(Quoting.message("abcdef", limit: 3) == #""abc"…"#)
    }

    @Test("cleaned text has spaces for control characters and is cut after the limit")
    func cleaned() {
        #expect(Quoting.cleaned("text/plain\u{0B}\u{1B}[31m") == "text/plain  [31m")
        #expect(Quoting.cleaned(String(repeating: "y", count: 300)) == String(repeating: "y", count: 200) + "…")
    }
}
