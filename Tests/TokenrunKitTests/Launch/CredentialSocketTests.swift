import Testing
@testable import TokenrunServers

@Suite("systemd credential socket: the peer address")
struct CredentialSocketTests {
    func request(_ text: String) -> CredentialRequest? { CredentialRequest(peerAddress: [0] + Array(text.utf8)) }

    @Test("NUL RANDOM/unit/UNIT/ID names the unit and the credential")
    func parse() {
        #expect(
            request("8a7f2c/unit/sync.service/gmail-token")
                == CredentialRequest(peerAddress: [0] + Array("x/unit/sync.service/gmail-token".utf8)))
        let parsed = request("8a7f2c/unit/sync@1.service/gmail-token")
        #expect(parsed?.unit == "sync@1.service")
        #expect(parsed?.credential == "gmail-token")
    }

    @Test("anything else is not a systemd request", arguments: ["8a7f2c/unit/", "8a7f2c/unit/sync.service/", "no-marker", ""])
    func rejects(_ text: String) {
        #expect(request(text) == nil)
    }

    @Test("a path-bound or unnamed peer is not a systemd request")
    func notAbstract() {
        #expect(CredentialRequest(peerAddress: Array("/tmp/x/unit/a/b".utf8)) == nil)
        #expect(CredentialRequest(peerAddress: []) == nil)
    }

    @Test("the ID names the profile and field; --map wins")
    func target() {
        let r = request("r/unit/u.service/gmail-token")!
        #expect(r.target(map: [:]) == ("gmail", "access_token"))
        #expect(request("r/unit/u/gmail-xoauth2")!.target(map: [:]) == ("gmail", "xoauth2"))
        #expect(request("r/unit/u/gmail")!.target(map: [:]) == ("gmail", "access_token"))
        #expect(request("r/unit/u/mail")!.target(map: ["mail": "outlook"]) == ("outlook", "access_token"))
    }
}
