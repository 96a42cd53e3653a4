// `tokenrun vault unlock` / `vault lock` and the keyring step of every unlock
// (SealedVault+KeyResolution.swift says the order; KeyringCache.swift holds the
// keyring's own policy). A cached key counts only
// when it reproduces the public key in the vault's header; the file's MAC and
// records are then checked exactly as after a passphrase or key file. A cached
// key that does not fit is invalidated and the ordinary key sources are used.
// Only `unlockIntoKeyring` puts keys in the keyring, and it never takes one
// from there: refreshing the timeout needs the passphrase or key again.
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials

/// What `vault status` says about the kernel keyring.
public enum KeyringStatus: Sendable, Equatable {
    /// The kernel offers no keyrings to this process (the failed call and why).
    case unavailable(String)
    /// No key is cached for this vault.
    case locked
    /// The vault's key is cached; `remaining` is the kernel's rough remaining lifetime, when shown.
    case unlocked(remaining: String?)
}

extension SealedVault {
    /// Unlocks with the ordinary key sources (never a cached key) and keeps the vault's secret key
    /// in the session keyring for `lifetime` seconds, replacing any key cached for it before.
    /// Returns which keyring holds it.
    @discardableResult
    public func unlockIntoKeyring(_ environment: KeyEnvironment, lifetime: Int64) throws -> SessionKeyring {
        guard KeyringCache.isValidLifetime(lifetime) else {
            throw TokenrunError.usage(
                "the vault can stay unlocked for 1s to \(DurationParser.format(KeyringCache.maximumLifetime)), not \(DurationParser.format(lifetime))"
            )
        }
        // Before any prompt or Argon2id: a keyring that cannot be used is said at once.
        do {
            _ = try KeyringCache.sessionKind()
        } catch {
            throw TokenrunError.keyringUnavailable(error)
        }
        guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
        let file = try decode(bytes)
        let material = try KeySources.resolve(for: file.header.keySource, vault: storage.location, environment: environment)
        let unlocked = try unlock(file, with: .material(material))
        let description = try keyringDescription(file)
        do {
            return try KeyringCache.store(unlocked.keyPair.secretKey, description: description, lifetime: lifetime)
        } catch {
            throw TokenrunError.keyringUnavailable(error)
        }
    }

    /// Removes the key cached for this vault; false when none was. Nil when there is no vault.
    public func lockKeyring() throws -> Bool? {
        guard let bytes = try storage.load() else { return nil }
        return KeyringCache.remove(try keyringDescription(try decode(bytes)))
    }

    /// The name (description) of this vault's keyring entry, for `keyctl`; nil when there is no vault.
    public func keyringName() throws -> String? {
        guard let bytes = try storage.load() else { return nil }
        return try keyringDescription(try decode(bytes))
    }

    /// Whether this vault's key is cached in the keyring now; nil when there is no vault.
    public func keyringStatus() throws -> KeyringStatus? {
        guard let bytes = try storage.load() else { return nil }
        let description = try keyringDescription(try decode(bytes))
        do {
            _ = try KeyringCache.sessionKind()
        } catch {
            return .unavailable("\(error.operation): \(error.reason)")
        }
        guard let serial = KeyringCache.find(description) else { return .locked }
        return .unlocked(remaining: KeyringCache.remainingLifetime(of: serial))
    }

    /// The keyring step of `firstKey`: the key pair cached for the vault of `header`, unchecked
    /// against the file (the caller checks the MAC or the records it reads); nil when none is
    /// cached, or the one cached does not reproduce the header's public key (it is invalidated).
    func cachedKeyPair(for header: VaultFile.Header) -> SealedBoxKeyPair? {
        guard let publicKey = Base64.decode(canonical: header.publicKey),
            let description = try? KeyringCache.description(forVaultPublicKey: publicKey, path: storage.location),
            let cached = KeyringCache.lookup(description)
        else { return nil }
        guard let pair = try? SealedBoxKeyPair(secretKey: cached.secretKey), pair.publicKey == publicKey else {
            KeyringCache.invalidate(cached.serial)
            return nil
        }
        return pair
    }

    /// The keyring description for the vault in `file`, from its header's public key.
    func keyringDescription(_ file: VaultFile) throws -> String {
        guard let publicKey = Base64.decode(canonical: file.header.publicKey) else {
            throw TokenrunError.vaultCorrupt(path: storage.location, reason: "its public key is not canonical base64")
        }
        return try crypto { try KeyringCache.description(forVaultPublicKey: publicKey, path: storage.location) }
    }
}
