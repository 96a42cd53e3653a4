import Foundation
import Testing

@testable import TokenrunOAuth

@Suite("PKCE and base64url")
struct PKCETests {
    static let rfcVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    static let rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    /// RFC 3986 §2.3, the only characters RFC 7636 §4.1 allows in a verifier.
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    @Test("RFC 7636 Appendix B: the example verifier is base64url of its 32 octets, and its S256 challenge is as printed")
    func rfcVector() {
        let octets: [UInt8] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
            22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ]
        #expect(Base64URL.encode(octets) == Self.rfcVerifier)
        #expect(PKCE.challenge(for: Self.rfcVerifier) == Self.rfcChallenge)
        let pkce = PKCE(verifier: Self.rfcVerifier, state: "xyz")
        #expect(pkce.verifier.value == Self.rfcVerifier)
        #expect(pkce.challenge == Self.rfcChallenge)
        #expect(pkce.state == "xyz")
        #expect(pkce.method == "S256")
    }

    /// S256 of `verifier` computed apart from the code under test: coreutils' sha256sum, then base64url
    /// (whose encoder rfcVector checks against the RFC's octets).
    static func independentChallenge(_ verifier: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(verifier.utf8))
        try input.fileHandleForWriting.close()
        let hex = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        process.waitUntilExit()
        var octets: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            octets.append(try #require(UInt8(hex[index..<next], radix: 16)))
            index = next
        }
        try #require(octets.count == 32)
        return Base64URL.encode(octets)
    }

    @Test("a generated verifier has 43 unreserved characters and its challenge is S256 of it (computed by sha256sum)")
    func generatedShape() throws {
        let pkce = try PKCE.generate()
        #expect(pkce.verifier.value.count == 43)
        #expect(pkce.verifier.value.allSatisfy { Self.unreserved.contains($0) })
        #expect(try Self.independentChallenge(Self.rfcVerifier) == Self.rfcChallenge)
        #expect(pkce.challenge == (try Self.independentChallenge(pkce.verifier.value)))
        #expect(pkce.challenge.count == 43)
        #expect(!pkce.state.isEmpty)
        #expect(pkce.state.allSatisfy { Self.unreserved.contains($0) })
        #expect(pkce.method == "S256")
    }

    @Test("every login gets a new verifier and a new state")
    func generatedDistinct() throws {
        let logins = try (0..<32).map { _ in try PKCE.generate() }
        #expect(Set(logins.map(\.verifier.value)).count == logins.count)
        #expect(Set(logins.map(\.state)).count == logins.count)
        #expect(logins.allSatisfy { $0.state != $0.verifier.value })
    }

    @Test("the verifier is a secret: printing a PKCE value never shows it")
    func verifierHidden() throws {
        let pkce = try PKCE.generate()
        #expect(!String(describing: pkce).contains(pkce.verifier.value))
        #expect(!String(reflecting: pkce).contains(pkce.verifier.value))
    }

    @Test(
        "base64url is RFC 4648 §5 without padding",
        arguments: [
            ([], ""), (Array("f".utf8), "Zg"), (Array("fo".utf8), "Zm8"), (Array("foo".utf8), "Zm9v"),
            (Array("foob".utf8), "Zm9vYg"), (Array("fooba".utf8), "Zm9vYmE"), (Array("foobar".utf8), "Zm9vYmFy"),
            ([0xFB, 0xEF, 0xFF], "--__"), ([0xFB, 0xFF], "-_8"), ([0x00], "AA"),
        ] as [([UInt8], String)])
    func base64URL(_ bytes: [UInt8], _ expected: String) {
        #expect(Base64URL.encode(bytes) == expected)
    }
}
