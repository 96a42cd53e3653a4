// The one key resolver. Every command that opens the vault (`unlock`, a
// launch's `unlock(_:prefetching:)`, `unlockOrCreate`) and doctor's key.source
// check take their key from `firstKey`, in this order:
// 1. the vault's secret key cached in the session keyring by `tokenrun vault
//    unlock`, when it reproduces the header's public key (a cached key that
//    does not is invalidated: SealedVault+Keyring.swift);
// 2. the first key source `KeySources.resolve` finds, in the documented order
//    (TOKENRUN_KEY_FILE, the systemd credential, TOKENRUN_PASSPHRASE /
//    TOKENRUN_PASSPHRASE_FILE, the default key file, the terminal prompt).
// Finding the key and applying it are two steps so that doctor can tell a key
// that does not fit from a file that does not verify; a command takes both at
// once (`unwrapWithFirstKey`), so doctor checks the credentials exactly as a
// launch would. Only `vault unlock` itself skips step 1: renewing the cached
// key must take the passphrase or key file again.
import TokenrunSodium
import TokenrunSupport

extension SealedVault {
    /// A key that opens a vault's header, and where it came from.
    package enum ResolvedKey: Sendable {
        /// The secret key `tokenrun vault unlock` cached; it reproduces the header's public key.
        case cached(SealedBoxKeyPair)
        /// What the first fitting key source gave.
        case material(KeyMaterial)

        /// Where the key came from, for messages ("TOKENRUN_KEY_FILE (/path)").
        package var origin: String {
            switch self {
            case .cached: "the key cached in the session keyring (tokenrun vault unlock)"
            case .material(let material): material.origin
            }
        }
    }

    /// The first key for `header`, in the order above; throws as `KeySources.resolve` does when there is none.
    package func firstKey(for header: VaultFile.Header, environment: KeyEnvironment) throws -> ResolvedKey {
        if let pair = cachedKeyPair(for: header) { return .cached(pair) }
        return .material(try KeySources.resolve(for: header.keySource, vault: storage.location, environment: environment))
    }

    /// `header` opened with the first key, unchecked against the file: the caller
    /// checks the file's MAC or the records it reads. `derivePublicKey` as in `unwrap`.
    package func unwrapWithFirstKey(
        _ header: VaultFile.Header, environment: KeyEnvironment, derivePublicKey: Bool = true
    ) throws -> (vault: UnlockedVault, key: ResolvedKey) {
        let key = try firstKey(for: header, environment: environment)
        return (try unwrap(header, with: key, derivePublicKey: derivePublicKey), key)
    }

    /// Applies `key` to a decoded file: key id, unwrap, public key, MAC, every record's MAC.
    package func unlock(_ file: VaultFile, with key: ResolvedKey) throws -> UnlockedVault {
        let unlocked = try unwrap(file.header, with: key)
        try unlocked.verify(file)
        return unlocked
    }

    /// Applies `key` to a header (see `unwrap(_:with:derivePublicKey:)` for key material).
    func unwrap(_ header: VaultFile.Header, with key: ResolvedKey, derivePublicKey: Bool = true) throws -> UnlockedVault {
        switch key {
        case .cached(let pair):
            return try UnlockedVault(storage: storage, keyPair: pair, keyID: header.keyID, header: header)
        case .material(let material):
            return try unwrap(header, with: material, derivePublicKey: derivePublicKey)
        }
    }
}
