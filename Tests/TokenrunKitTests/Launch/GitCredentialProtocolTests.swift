import Testing
@testable import TokenrunServers

@Suite("git credential protocol")
struct GitCredentialProtocolTests {
    @Test("parse reads key=value lines up to the blank line, keeps the first of a repeated key, and tolerates CRLF")
    func parse() {
        let input = Array("protocol=https\r\nhost=github.com\nhost=other\nnovalue\npath=a=b\n\nusername=after-blank\n".utf8)
        let attributes = GitCredentialProtocol.parse(input)
        #expect(attributes == ["protocol": "https", "host": "github.com", "path": "a=b"])
    }

    @Test("answer gives username, password and the expiry; a line break or an empty value is refused")
    func answer() {
        #expect(
            GitCredentialProtocol.answer(username: "oauth2", password: "tok", expiresAt: 1_700_000_000)
                == "username=oauth2\npassword=tok\npassword_expiry_utc=1700000000\n")
        #expect(GitCredentialProtocol.answer(username: "u", password: "tok", expiresAt: nil) == "username=u\npassword=tok\n")
        #expect(GitCredentialProtocol.answer(username: "u", password: "to\nk", expiresAt: nil) == nil)
        #expect(GitCredentialProtocol.answer(username: "u\r", password: "tok", expiresAt: nil) == nil)
        #expect(GitCredentialProtocol.answer(username: "", password: "tok", expiresAt: nil) == nil)
    }
}
