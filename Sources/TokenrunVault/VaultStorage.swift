// Where the sealed vault bytes live. Callers see only this protocol, so a
// backend shared by several hosts (a database row with optimistic locking, say)
// can replace the local file without touching them. Sealing happens above it:
// a storage backend only ever holds ciphertext.

/// A place that holds the vault's bytes and serializes changes to them.
public protocol VaultStorage: Sendable {
    /// Who may refresh each credential now: held across re-read → token request → write.
    var leases: any RefreshLeases { get }

    /// A human-readable location, for messages (a path, a URL without credentials).
    var location: String { get }

    /// A consistent snapshot of the current bytes, or nil when there is no vault;
    /// takes nothing a writer or a refresh holds.
    func load() throws -> [UInt8]?

    /// Runs `body` with the current bytes while holding exclusive access, and
    /// stores what it returns (atomically) unless it returns nil. The access is
    /// held only for this call: `body` must not wait on the network.
    func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws

    /// Runs `body` with random access to a consistent snapshot of the current
    /// bytes (nil when there is no vault), for reading a few records of a large vault.
    func withReader<T>(_ body: ((any VaultReader)?) throws -> T) throws -> T
}

extension VaultStorage {
    public func withReader<T>(_ body: ((any VaultReader)?) throws -> T) throws -> T {
        try body(try load().map(VaultBytesReader.init))
    }
}
