// The vault's on-disk format, version 1. Three lines:
//
//     TOKENRUN-VAULT 1
//     {"key_source":…,"key_id":…,"wrapped_secret_key":…,"records":[…]}
//     mac <base64 keyed BLAKE2b of the first two lines>
//
// The first line names the format and its version, so a newer file is refused
// rather than misread. The second holds the header (how the secret key is
// wrapped) and the sealed records; nothing in it is secret in the clear. The
// third authenticates the first two under a subkey of the vault's secret key,
// so records cannot be added, swapped or dropped by someone who can only write
// the file. Parsing here is pure: no keys, no I/O.
import FoundationEssentials

/// How the vault's secret key is wrapped.
public enum KeySourceKind: String, Sendable, Codable {
    case keyFile = "key_file"
    case passphrase

    /// "a key file" / "a passphrase", for messages.
    public var phrase: String { self == .keyFile ? "a key file" : "a passphrase" }
}

/// Argon2id parameters for a passphrase vault.
public struct KDFParameters: Sendable, Equatable, Codable {
    public var algorithm: String
    public var salt: String  // base64
    public var opsLimit: UInt64
    public var memLimit: UInt64

    enum CodingKeys: String, CodingKey {
        case algorithm, salt
        case opsLimit = "ops_limit"
        case memLimit = "mem_limit"
    }
}

/// One sealed record as stored: the profile name in the clear, the rest sealed.
public struct SealedRecord: Sendable, Equatable, Codable {
    public var profile: String
    public var sealed: String  // base64 of crypto_box_seal output
}

/// The decoded vault file, before any key is applied.
public struct VaultFile: Sendable, Equatable {
    public static let magic = "TOKENRUN-VAULT"
    public static let currentVersion = 1

    public struct Header: Sendable, Equatable, Codable {
        public var keySource: KeySourceKind
        /// Fingerprint of the wrapping key, to tell a wrong key from a damaged file.
        public var keyID: String
        public var kdf: KDFParameters?
        /// The X25519 secret key, secret-boxed under the wrapping key (base64).
        public var wrappedSecretKey: String
        /// The public key, kept only to detect tampering; never used to seal.
        public var publicKey: String
        public var createdAt: Int64
        public var records: [SealedRecord]

        enum CodingKeys: String, CodingKey {
            case keySource = "key_source"
            case keyID = "key_id"
            case kdf
            case wrappedSecretKey = "wrapped_secret_key"
            case publicKey = "public_key"
            case createdAt = "created_at"
            case records
        }
    }

    public var header: Header
    /// The authenticated bytes (first two lines, with their newlines).
    public var authenticatedBytes: [UInt8]
    public var mac: [UInt8]

    /// Why a file could not be decoded.
    public enum FormatError: Error, Sendable, Equatable {
        case notAVault
        case unsupportedVersion(Int)
        case truncated
        case corrupt(String)
    }

    /// Decodes a vault file's bytes without any key.
    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> VaultFile {
        let newline = UInt8(ascii: "\n")
        guard let firstEnd = bytes.firstIndex(of: newline) else {
            if bytes.starts(with: Array(magic.utf8)) { throw .truncated }
            throw .notAVault
        }
        guard let first = String(validating: bytes[..<firstEnd], as: UTF8.self) else { throw .notAVault }
        let words = first.split(separator: " ")
        guard words.count == 2, words[0] == magic else { throw .notAVault }
        guard let version = Int(words[1]), version > 0 else {
            throw .corrupt("unreadable version \(MessageText.quoted(String(words[1]), limit: 20))")
        }
        guard version == currentVersion else { throw .unsupportedVersion(version) }

        let bodyStart = firstEnd + 1
        guard let bodyEnd = bytes[bodyStart...].firstIndex(of: newline) else { throw .truncated }
        let macStart = bodyEnd + 1
        guard macStart < bytes.count else { throw .truncated }
        guard bytes.last == newline else { throw .truncated }
        let macLine = bytes[macStart..<(bytes.count - 1)]
        guard let macText = String(validating: macLine, as: UTF8.self), macText.hasPrefix("mac ") else {
            throw .corrupt("the authentication line is missing or malformed")
        }
        guard let mac = Data(base64Encoded: String(macText.dropFirst(4))), mac.count == 32 else {
            throw .corrupt("the authentication line is not 32 bytes of base64")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[bodyStart..<bodyEnd]))
        } catch {
            throw .corrupt("its header is not valid (\(Self.describe(error)))")
        }
        var seen = Set<String>()
        for record in header.records where !seen.insert(record.profile).inserted {
            throw .corrupt("profile \(MessageText.quoted(record.profile)) appears twice")
        }
        return VaultFile(header: header, authenticatedBytes: Array(bytes[..<macStart]), mac: Array(mac))
    }

    /// Encodes the header, authenticating it with `macKey`.
    public static func serialize(_ header: Header, macKey: SecretBytes) throws -> [UInt8] {
        var sorted = header
        sorted.records.sort { $0.profile < $1.profile }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = Array("\(magic) \(currentVersion)\n".utf8)
        bytes += Array(try encoder.encode(sorted))
        bytes.append(UInt8(ascii: "\n"))
        let mac = try KeyedHash.hash(bytes, key: macKey)
        bytes += Array("mac \(Data(mac).base64EncodedString())\n".utf8)
        return bytes
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "malformed JSON" : "bad value at \(path)"
        default: return "malformed JSON"
        }
    }
}
