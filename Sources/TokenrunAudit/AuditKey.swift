// The key that authenticates the audit trail's hash chain. It is derived from
// the vault's secret key for this one purpose (keyed BLAKE2b, like the vault's
// own MAC key), so it reveals nothing of the vault key, and someone who can
// write the trail but cannot open the vault cannot forge a record. It lives in
// SecretBytes for as long as the process holds the unlocked vault and is never
// printed; only its id — a keyed hash of a constant, not secret — goes into
// records, so a vault created anew is told apart from tampering.
import TokenrunSodium
import TokenrunSupport

/// The audit-chain key of one vault.
public struct AuditKey: Sendable, CustomStringConvertible {
    static let purpose = "tokenrun audit chain v1"
    static let idPurpose = "tokenrun audit key id v1"

    let secret: SecretBytes
    /// A public name of the key: 16 hex digits, the same for every process that opens the same vault.
    public let id: String

    /// The audit key of the vault whose secret key is `vaultSecretKey`.
    package init(vaultSecretKey: SecretBytes) throws {
        try self.init(secret: try KeyedHash.deriveSubkey(from: vaultSecretKey, purpose: Self.purpose))
    }

    init(secret: SecretBytes) throws {
        self.secret = secret
        // BLAKE2b's shortest output is 16 bytes; the id needs only 8 of them.
        id = Hex.encode(Array(try KeyedHash.hash(Array(Self.idPurpose.utf8), key: secret, length: 16).prefix(8)))
    }

    /// Keyed BLAKE2b over the previous record's MAC and this record's JSON without its own `mac`.
    func mac(previous: [UInt8], body: [UInt8]) throws -> [UInt8] {
        try KeyedHash.hash(previous + body, key: secret)
    }

    /// Never the key itself.
    public var description: String { "AuditKey(id \(id))" }
}
