@testable import TokenrunVault

/// A named fake: vault bytes held in memory, for tests that open thousands of
/// altered vaults (a real file write fsyncs). Used by one thread at a time.
final class InMemoryVaultStorage: VaultStorage, @unchecked Sendable {
    var bytes: [UInt8]?
    let location = "/memory/tokenrun/vault"
    /// These tests never refresh, so no lease is ever taken.
    var leases: any RefreshLeases { FileRefreshLeases(directory: "/nonexistent/memory/vault.leases") }

    init(_ bytes: [UInt8]?) { self.bytes = bytes }

    func load() throws -> [UInt8]? { bytes }

    func update(_ body: ([UInt8]?) throws -> [UInt8]?) throws {
        if let next = try body(bytes) { bytes = next }
    }
}
