// Proof Key for Code Exchange (RFC 7636) with the S256 method, and the `state`
// value (RFC 6749 §10.12): both random per login, both base64url without
// padding. The verifier is sent only in the token request body.
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials

/// One login's PKCE verifier, its challenge and the state value.
public struct PKCE: Sendable {
    public let verifier: SecretString
    public let challenge: String
    public let state: String
    public var method: String { "S256" }

    /// Fresh random values from the system CSPRNG.
    public static func generate() throws -> PKCE {
        let verifier = Base64URL.encode(try Sodium.randomBytes(32))
        let state = Base64URL.encode(try Sodium.randomBytes(16))
        return PKCE(verifier: verifier, state: state)
    }

    /// Values from a given verifier (for RFC 7636 Appendix B's test vector).
    public init(verifier: String, state: String) {
        self.verifier = SecretString(verifier)
        self.challenge = Self.challenge(for: verifier)
        self.state = state
    }

    /// BASE64URL(SHA256(ASCII(verifier))).
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(Array(verifier.utf8)))
    }
}

/// Base64url without padding (RFC 4648 §5).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacing("+", with: "-").replacing("/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
