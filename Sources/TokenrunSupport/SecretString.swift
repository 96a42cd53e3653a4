// A secret kept in a string: tokens, client secrets. It prints, logs and
// mirrors as a fingerprint, so showing one by mistake never shows the secret.
import FoundationEssentials
import TokenrunSodium

/// A secret string that prints as a fingerprint, never as its value.
public struct SecretString: Sendable, Equatable, Codable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret itself; read it only to hand it to its consumer.
    public let value: String

    public init(_ value: String) { self.value = value }

    public init(from decoder: Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    /// A short, non-reversible fingerprint (first 8 hex digits of BLAKE2b).
    public var fingerprint: String { Fingerprint.of(Array(value.utf8)) }

    public var description: String { "‹secret \(fingerprint)›" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["fingerprint": fingerprint]) }
}

/// Short fingerprints of secret values, safe to show.
public enum Fingerprint {
    public static func of(_ bytes: [UInt8]) -> String {
        KeyedHash.unkeyed(bytes, length: 16).prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
