// The vault's on-disk format. Version 2, written by this version:
//
//     TOKENRUN-VAULT 2
//     {"created_at":…,"key_id":…,"key_source":…,"public_key":…,"wrapped_secret_key":…}
//     <profile> <base64 sealed record> <base64 record MAC>     one line per credential,
//     …                                                        sorted by profile name
//     mac <base64 keyed BLAKE2b of every line above>
//
// The first line names the format and its version, so a file of another
// version is refused rather than misread. The second holds the header (how the secret key is
// wrapped); nothing in it is secret in the clear. Each record line carries its
// own MAC under a subkey of the vault's secret key, binding the profile name to
// the sealed bytes, so a warm launch can find its record by binary search and
// check it alone: its cost does not grow with the number of credentials. The
// last line authenticates the whole file, so records cannot be added, swapped
// or dropped by someone who can only write it; every write and every full read
// (status, doctor) checks it.
//
// Only version 2 is read. Version 1 (header and records on one JSON line) was
// never written by a release, so such a file is refused as an unsupported
// version, like a newer one, and left as it is. Parsing here is pure: no keys.
import TokenrunSodium
import TokenrunSupport
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

    /// Its JSON keys in the header line, for `VaultFile.serialize` and `VaultFile.header(_:)` alike.
    enum CodingKeys: String, CodingKey {
        case algorithm, salt
        case opsLimit = "ops_limit"
        case memLimit = "mem_limit"
    }
}

/// One sealed record as stored: the profile name in the clear, the rest sealed.
public struct SealedRecord: Sendable, Equatable {
    public var profile: String
    public var sealed: String  // base64 of crypto_box_seal output
    /// The record's own MAC (base64): set when read from a file; nil for a record not yet written.
    public var mac: String?

    public init(profile: String, sealed: String, mac: String? = nil) {
        self.profile = profile
        self.sealed = sealed
        self.mac = mac
    }

    /// The bytes the record's MAC covers: "<profile> <sealed>".
    var authenticatedBytes: [UInt8] { Array(profile.utf8) + [UInt8(ascii: " ")] + Array(sealed.utf8) }
}

/// The decoded vault file, before any key is applied.
public struct VaultFile: Sendable, Equatable {
    public static let magic = "TOKENRUN-VAULT"
    /// The only version read and written.
    public static let currentVersion = 2

    public struct Header: Sendable, Equatable {
        public var keySource: KeySourceKind
        /// Fingerprint of the wrapping key, to tell a wrong key from a damaged file.
        public var keyID: String
        public var kdf: KDFParameters?
        /// The X25519 secret key, secret-boxed under the wrapping key (base64).
        public var wrappedSecretKey: String
        /// The public key, kept only to detect tampering; never used to seal.
        public var publicKey: String
        public var createdAt: Int64
        /// Every record, sorted by profile (a header read for one launch holds only the records it looked up).
        public var records: [SealedRecord]

        /// The header line's JSON keys, for `serialize` and `header(_:)` alike, in the order written (sorted).
        enum Key: String {
            case createdAt = "created_at"
            case kdf
            case keyID = "key_id"
            case keySource = "key_source"
            case publicKey = "public_key"
            case wrappedSecretKey = "wrapped_secret_key"
        }
    }

    public var version: Int
    public var header: Header
    /// The authenticated bytes (every line before the MAC line, with their newlines).
    public var authenticatedBytes: [UInt8]
    public var mac: [UInt8]

    /// Why a file could not be decoded.
    public enum FormatError: Error, Sendable, Equatable {
        case notAVault
        case unsupportedVersion(Int)
        case truncated
        case corrupt(String)
    }

    static let newline = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")

    /// Decodes a whole vault file's bytes without any key.
    public static func parse(_ bytes: [UInt8]) throws(FormatError) -> VaultFile {
        guard let firstEnd = bytes.firstIndex(of: newline) else {
            if bytes.starts(with: Array(magic.utf8)) { throw .truncated }
            throw .notAVault
        }
        let version = try Self.version(bytes[..<firstEnd])
        let bodyStart = firstEnd + 1
        guard let bodyEnd = bytes[bodyStart...].firstIndex(of: newline) else { throw .truncated }
        guard bytes.last == newline, bodyEnd + 1 < bytes.count else { throw .truncated }
        guard let macStart = bytes[..<(bytes.count - 1)].lastIndex(of: newline).map({ $0 + 1 }), macStart > bodyEnd else {
            throw .truncated
        }
        let mac = try Self.mac(bytes[macStart..<(bytes.count - 1)])
        var header = try Self.header(bytes[bodyStart..<bodyEnd])
        var start = bodyEnd + 1
        while start < macStart {
            let end = bytes[start..<macStart].firstIndex(of: newline)!
            let record = try Self.record(bytes[start..<end])
            if let previous = header.records.last, !previous.profile.utf8.lexicographicallyPrecedes(record.profile.utf8) {
                if previous.profile == record.profile {
                    throw .corrupt("profile \(Quoting.message(record.profile)) appears twice")
                }
                throw .corrupt("its records are out of order")
            }
            header.records.append(record)
            start = end + 1
        }
        return VaultFile(version: version, header: header, authenticatedBytes: Array(bytes[..<macStart]), mac: mac)
    }

    static func version(_ line: ArraySlice<UInt8>) throws(FormatError) -> Int {
        guard let first = String(validating: line, as: UTF8.self) else { throw .notAVault }
        let words = first.split(separator: " ")
        guard words.count == 2, words[0] == magic else { throw .notAVault }
        guard let version = Int(words[1]), version > 0 else {
            throw .corrupt("unreadable version \(Quoting.message(String(words[1]), limit: 20))")
        }
        guard version == currentVersion else { throw .unsupportedVersion(version) }
        return version
    }

    static func mac(_ line: ArraySlice<UInt8>) throws(FormatError) -> [UInt8] {
        guard let macText = String(validating: line, as: UTF8.self), macText.hasPrefix("mac ") else {
            throw .corrupt("the authentication line is missing or malformed")
        }
        guard let mac = Base64.decode(canonical: String(macText.dropFirst(4))), mac.count == 32 else {
            throw .corrupt("the authentication line is not 32 bytes of canonical base64")
        }
        return mac
    }

    /// The header line (the records follow it, one a line).
    static func header(_ line: ArraySlice<UInt8>) throws(FormatError) -> Header {
        let value: JSONValue
        do throws(JSONReadError) {
            value = try JSONReader.parse(line)
        } catch {
            throw .corrupt("its header is not valid (malformed JSON)")
        }
        typealias Key = Header.Key
        typealias KDFKey = KDFParameters.CodingKeys
        do throws(JSONReadError) {
            let object = try JSONObjectReader(value)
            guard let keySource = KeySourceKind(rawValue: try object.string(Key.keySource.rawValue)) else {
                throw JSONReadError(offset: 0, reason: "bad value at \(Key.keySource.rawValue)")
            }
            var kdf: KDFParameters?
            if let parameters = try object.object(Key.kdf.rawValue) {
                guard let ops = try parameters.optionalUInt64(KDFKey.opsLimit.stringValue),
                    let mem = try parameters.optionalUInt64(KDFKey.memLimit.stringValue)
                else {
                    throw JSONReadError(
                        offset: 0, reason: "missing \"\(KDFKey.opsLimit.stringValue)\" or \"\(KDFKey.memLimit.stringValue)\"")
                }
                kdf = KDFParameters(
                    algorithm: try parameters.string(KDFKey.algorithm.stringValue), salt: try parameters.string(KDFKey.salt.stringValue),
                    opsLimit: ops, memLimit: mem)
            }
            return Header(
                keySource: keySource, keyID: try object.string(Key.keyID.rawValue), kdf: kdf,
                wrappedSecretKey: try object.string(Key.wrappedSecretKey.rawValue), publicKey: try object.string(Key.publicKey.rawValue),
                createdAt: try object.int64(Key.createdAt.rawValue), records: [])
        } catch {
            throw .corrupt("its header is not valid (\(error.reason))")
        }
    }

    /// One record line: "<profile> <sealed> <mac>".
    static func record(_ line: ArraySlice<UInt8>) throws(FormatError) -> SealedRecord {
        let fields = line.split(separator: space, omittingEmptySubsequences: false)
        guard fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty, !fields[2].isEmpty,
            fields[0].allSatisfy({ $0 > 0x20 && $0 < 0x7F }), fields[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            fields[2].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .corrupt("a record line is malformed") }
        return SealedRecord(
            profile: String(decoding: fields[0], as: UTF8.self), sealed: String(decoding: fields[1], as: UTF8.self),
            mac: String(decoding: fields[2], as: UTF8.self))
    }

    /// The key each record's MAC is made with, from the file's MAC key.
    public static func recordKey(macKey: SecretBytes) throws -> SecretBytes {
        try KeyedHash.deriveSubkey(from: macKey, purpose: "tokenrun vault record mac v2")
    }

    /// A record's MAC (base64) under `recordKey`.
    static func recordMAC(_ record: SealedRecord, recordKey: SecretBytes) throws -> String {
        Base64.encode(try KeyedHash.hash(record.authenticatedBytes, key: recordKey))
    }

    /// Encodes the header and its records as a version-2 file, authenticating each
    /// record and the whole file with subkeys of `macKey`.
    public static func serialize(_ header: Header, macKey: SecretBytes) throws -> [UInt8] {
        let recordKey = try recordKey(macKey: macKey)
        var bytes = Array("\(magic) \(currentVersion)\n".utf8)
        typealias Key = Header.Key
        typealias KDFKey = KDFParameters.CodingKeys
        func object(_ members: [(String, String?)]) -> String {
            "{" + members.compactMap { key, value in value.map { "\(Quoting.json(key)):\($0)" } }.joined(separator: ",") + "}"
        }
        // Sorted by key, as `Key` lists them.
        let kdf = header.kdf.map { kdf in
            object([
                (KDFKey.algorithm.stringValue, Quoting.json(kdf.algorithm)), (KDFKey.memLimit.stringValue, "\(kdf.memLimit)"),
                (KDFKey.opsLimit.stringValue, "\(kdf.opsLimit)"), (KDFKey.salt.stringValue, Quoting.json(kdf.salt)),
            ])
        }
        let line = object([
            (Key.createdAt.rawValue, "\(header.createdAt)"), (Key.kdf.rawValue, kdf), (Key.keyID.rawValue, Quoting.json(header.keyID)),
            (Key.keySource.rawValue, Quoting.json(header.keySource.rawValue)), (Key.publicKey.rawValue, Quoting.json(header.publicKey)),
            (Key.wrappedSecretKey.rawValue, Quoting.json(header.wrappedSecretKey)),
        ])
        bytes += Array("\(line)\n".utf8)
        let records = header.records.sorted { $0.profile.utf8.lexicographicallyPrecedes($1.profile.utf8) }
        for (index, record) in records.enumerated() {
            guard !record.profile.isEmpty, record.profile.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw TokenrunError.crypto("profile name \(Quoting.message(record.profile)) cannot be stored")
            }
            if index > 0, records[index - 1].profile == record.profile {
                throw TokenrunError.crypto("profile \(Quoting.message(record.profile)) would be stored twice")
            }
            bytes += record.authenticatedBytes + [space] + Array(try recordMAC(record, recordKey: recordKey).utf8) + [newline]
        }
        let mac = try KeyedHash.hash(bytes, key: macKey)
        bytes += Array("mac \(Base64.encode(mac))\n".utf8)
        return bytes
    }
}

/// Random access to a vault file's bytes, for finding one record without reading them all.
public protocol VaultReader {
    var count: Int { get }
    /// The bytes in `range` (clamped to the file).
    func bytes(_ range: Range<Int>) throws -> [UInt8]
}

/// A vault held in memory.
public struct VaultBytesReader: VaultReader {
    let contents: [UInt8]
    public init(_ contents: [UInt8]) { self.contents = contents }
    public var count: Int { contents.count }
    public func bytes(_ range: Range<Int>) throws -> [UInt8] { Array(contents[range.clamped(to: 0..<contents.count)]) }
}

extension VaultFile {
    /// A file's header, read from its start, and where its record lines lie.
    public struct Index: Sendable {
        public var header: Header
        var records: Range<Int>
        /// The whole-file MAC from the last line (it covers every byte before `records.upperBound`).
        var mac: [UInt8]
    }

    /// Reads the header of a file and finds where its records and MAC are.
    public static func index(_ reader: some VaultReader) throws -> Index {
        let count = reader.count
        var head = try reader.bytes(0..<min(count, 4096))
        guard let firstEnd = head.firstIndex(of: newline) else {
            if head.count == count { return try fullParseError(head) }
            throw FormatError.notAVault
        }
        _ = try version(head[..<firstEnd])
        var bodyEnd = head[(firstEnd + 1)...].firstIndex(of: newline)
        if bodyEnd == nil, head.count < count {
            head = try reader.bytes(0..<min(count, 1 << 20))
            bodyEnd = head[(firstEnd + 1)...].firstIndex(of: newline)
        }
        guard let bodyEnd else { throw FormatError.truncated }
        let header = try header(head[(firstEnd + 1)..<bodyEnd])
        let tailStart = max(bodyEnd + 1, count - 256)
        let tail = try reader.bytes(tailStart..<count)
        guard tail.last == newline,
            let lastStart = tail.dropLast().lastIndex(of: newline).map({ $0 + 1 }) ?? (tailStart == bodyEnd + 1 ? 0 : nil)
        else { throw FormatError.truncated }
        let fileMAC = try mac(tail[lastStart..<(tail.count - 1)])
        return Index(header: header, records: (bodyEnd + 1)..<(tailStart + lastStart), mac: fileMAC)
    }

    /// Whatever `parse` says about a short file that has no newline.
    private static func fullParseError(_ bytes: [UInt8]) throws -> Index {
        _ = try parse(bytes)
        throw FormatError.truncated
    }

    /// The record for `profile`, found by binary search over the sorted record lines; nil when there is none.
    public static func findRecord(_ profile: String, in reader: some VaultReader, index: Index) throws -> SealedRecord? {
        let target = Array(profile.utf8)
        var low = index.records.lowerBound
        var high = index.records.upperBound
        // Invariant: the record, if present, is on a line that starts in low..<high.
        while low < high {
            let middle = low + (high - low) / 2
            guard let (start, line) = try Self.line(startingAtOrAfter: middle, in: reader, bounds: index.records),
                start < high
            else {
                high = middle
                continue
            }
            let name = Array(line.prefix { $0 != space })
            if name == target { return try record(line[...]) }
            if name.lexicographicallyPrecedes(target) {
                low = start + line.count + 1
            } else {
                high = middle
            }
        }
        return nil
    }

    /// The first line starting at or after `offset` (within `bounds`), without its newline.
    static func line(startingAtOrAfter offset: Int, in reader: some VaultReader, bounds: Range<Int>) throws -> (Int, [UInt8])? {
        let chunk = 4096
        // Bytes from `position` on; a line starts after the first newline at or after offset - 1.
        var position = offset > bounds.lowerBound ? offset - 1 : offset
        var buffer = try reader.bytes(position..<min(position + chunk, bounds.upperBound))
        var start = offset
        if offset > bounds.lowerBound {
            var newlineAt = buffer.firstIndex(of: newline)
            while newlineAt == nil {
                position += buffer.count
                guard position < bounds.upperBound else { return nil }
                buffer = try reader.bytes(position..<min(position + chunk, bounds.upperBound))
                guard !buffer.isEmpty else { throw FormatError.truncated }
                newlineAt = buffer.firstIndex(of: newline)
            }
            start = position + newlineAt! + 1
            buffer.removeSubrange(...newlineAt!)
            position = start
        }
        guard start < bounds.upperBound else { return nil }
        while true {
            if let end = buffer.firstIndex(of: newline) { return (start, Array(buffer[..<end])) }
            let next = position + buffer.count
            guard next < bounds.upperBound else { throw FormatError.corrupt("a record line is not terminated") }
            let more = try reader.bytes(next..<min(next + chunk, bounds.upperBound))
            guard !more.isEmpty else { throw FormatError.truncated }
            buffer += more
        }
    }
}
