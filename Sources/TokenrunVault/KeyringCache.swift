// The Linux kernel keyring (keyrings(7)) as a cache for the unwrapped vault
// key, so that a passphrase vault's Argon2id is paid once per session
// (`tokenrun vault unlock`), not on every launch. The only code that calls the
// keyring shims. Policy:
// - Only the vault's X25519 secret key is cached, never a passphrase, key file
//   or wrapping key. It is a "user" key named "tokenrun:vault:" + a BLAKE2b
//   hash of the vault's public key: nothing secret is in the name, and each
//   vault has its own entry.
// - A new entry is made in this thread's keyring, given its timeout and
//   possessor-only permissions there, and only then linked into the session
//   keyring: the session never holds an entry without a timeout or readable by
//   anyone but a possessor, even if tokenrun is killed halfway. A step that
//   fails invalidates the entry.
// - Looking up is one KEYCTL_SEARCH and one KEYCTL_READ, and silent: no entry,
//   an unreadable one, or no keyrings at all (ENOSYS, EPERM, EACCES under a
//   container's seccomp filter) all mean "not cached".
// - Key bytes go from SecretBytes to the kernel and back into SecretBytes; no
//   copy is made in ordinary memory.
import TokenrunSodium
import TokenrunSupport
import _TokenrunCShims

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Which keyring a process's session keyring is.
public enum SessionKeyring: Sendable, Equatable {
    /// A session keyring of its own: a login session set up by pam_keyinit, or `keyctl session`.
    case own
    /// The user's default session keyring: the process has no session keyring of its own, so it
    /// shares this one with every process of the same user that has none either.
    case userDefault
}

/// A vault secret key found in the keyring.
public struct CachedKey: Sendable {
    /// The entry's serial number, to invalidate it.
    public let serial: Int32
    public let secretKey: SecretBytes
}

/// The session keyring, holding unwrapped vault keys for a while.
public enum KeyringCache {
    static let threadKeyring: Int32 = -1  // KEY_SPEC_THREAD_KEYRING
    static let sessionKeyring: Int32 = -3  // KEY_SPEC_SESSION_KEYRING
    static let userSessionKeyring: Int32 = -5  // KEY_SPEC_USER_SESSION_KEYRING
    static let keyType = "user"
    static let descriptionPurpose = "tokenrun keyring description v1"

    /// Every entry's description starts with this.
    public static let descriptionPrefix = "tokenrun:vault:"
    /// View, read, write, search, link and set-attribute for a possessor; nothing for the user,
    /// group or others as such (a process of the same user that does not possess the keyring
    /// cannot even see the entry).
    public static let possessorOnly: UInt32 = 0x3f00_0000
    /// The longest `vault unlock --for` accepts: a week.
    public static let maximumLifetime: Int64 = 7 * 86_400
    /// The length of a vault secret key, the only payload this cache holds.
    public static let keyLength = 32

    /// The entry's description for the vault with `publicKey`: the prefix and 32 hex digits of a
    /// BLAKE2b hash of the public key (which is not secret either).
    /// `path`, the vault's location, is part of the name: a vault file copied over another
    /// one is not opened with the key cached for the vault it came from.
    public static func description(forVaultPublicKey publicKey: [UInt8], path: String) throws(SodiumError) -> String {
        try Sodium.ensureInitialized()
        let input = Array(descriptionPurpose.utf8) + publicKey + [0] + Array(path.utf8)
        return descriptionPrefix + Hex.encode(KeyedHash.unkeyed(input, length: 16))
    }

    /// Whether `seconds` is a lifetime `store` accepts: more than 0, at most `maximumLifetime`.
    public static func isValidLifetime(_ seconds: Int64) -> Bool {
        seconds > 0 && seconds <= maximumLifetime
    }

    /// The key cached under `description`, or nil — silently — when there is none, it cannot be
    /// read, or the kernel offers no keyrings. An entry that holds something other than a 32-byte
    /// key is invalidated.
    public static func lookup(_ description: String) -> CachedKey? {
        let serial = tokenrun_key_search(sessionKeyring, keyType, description)
        guard serial > 0 else { return nil }
        var length = -1
        let key = try? SecretBytes(count: keyLength) { buffer in
            // KEYCTL_READ copies nothing when the payload does not fit, and says how long it is.
            length = tokenrun_key_read(serial, buffer.baseAddress, buffer.count)
            guard length == buffer.count else { throw KeyringError(operation: "keyctl read", errno: EINVAL) }
        }
        guard let key else {
            if length >= 0 { invalidate(serial) }
            return nil
        }
        return CachedKey(serial: serial, secretKey: key)
    }

    /// The serial of the entry under `description` without reading it, or nil.
    public static func find(_ description: String) -> Int32? {
        let serial = tokenrun_key_search(sessionKeyring, keyType, description)
        return serial > 0 ? serial : nil
    }

    /// Which session keyring this process has; throws when the kernel offers no keyrings.
    /// A process without a session keyring of its own gets the user's default one here, so that
    /// `store` never makes a keyring that would end with this process.
    public static func sessionKind() throws(KeyringError) -> SessionKeyring {
        try session().kind
    }

    /// The serial of this process's session keyring (the user's default one when it has none:
    /// never a new one, which would end with this process) and which kind it is.
    private static func session() throws(KeyringError) -> (serial: Int32, kind: SessionKeyring) {
        let session = tokenrun_key_keyring_id(sessionKeyring, 0)
        guard session > 0 else { throw lastError("keyctl get session keyring") }
        let userSession = tokenrun_key_keyring_id(userSessionKeyring, 0)
        return (session, session == userSession ? .userDefault : .own)
    }

    /// Caches `secretKey` under `description` in the session keyring for `lifetime` seconds,
    /// replacing (and invalidating) any entry already there. Returns which keyring holds it.
    @discardableResult
    public static func store(_ secretKey: SecretBytes, description: String, lifetime: Int64) throws(KeyringError) -> SessionKeyring {
        precondition(isValidLifetime(lifetime), "the caller checks the lifetime")
        precondition(secretKey.count == keyLength, "only vault secret keys are cached")
        let (session, kind) = try session()
        let serial = secretKey.withUnsafeBytes { payload in
            tokenrun_key_add(keyType, description, payload.baseAddress, payload.count, threadKeyring)
        }
        guard serial > 0 else { throw lastError("add_key") }
        do {
            try check(tokenrun_key_set_timeout(serial, UInt32(lifetime)), "keyctl timeout")
            try check(tokenrun_key_set_perm(serial, possessorOnly), "keyctl setperm")
            // The entry this replaces goes first, while this process still possesses it: once
            // displaced from the session keyring by the link it could no longer be invalidated.
            if let previous = find(description), previous != serial { invalidate(previous) }
            try check(tokenrun_key_link(serial, session), "keyctl link")
        } catch {
            invalidate(serial)
            throw error
        }
        _ = tokenrun_key_unlink(serial, threadKeyring)
        return kind
    }

    /// Removes every entry under `description` from the session keyring; false when there was none.
    @discardableResult
    public static func remove(_ description: String) -> Bool {
        var removed = false
        // Bounded: a kernel that can neither invalidate nor revoke must not loop forever.
        for _ in 0..<8 {
            guard let serial = find(description) else { break }
            invalidate(serial)
            removed = true
        }
        return removed
    }

    /// Makes the entry unusable at once: invalidated, or on kernels before 3.5 revoked. (Not
    /// unlinked: KEYCTL_UNLINK removes whichever key in the keyring has the same description.)
    public static func invalidate(_ serial: Int32) {
        if tokenrun_key_invalidate(serial) == 0 { return }
        _ = tokenrun_key_revoke(serial)
    }

    /// The kernel's rough remaining lifetime of an entry ("7h", "59m", "12s"; the largest whole
    /// unit), read from /proc/keys; nil when it is not shown there.
    public static func remainingLifetime(of serial: Int32) -> String? {
        guard let bytes = try? FileSystem.readFile("/proc/keys", limit: 8 << 20) else { return nil }
        return remainingLifetime(of: serial, procKeys: String(decoding: bytes, as: UTF8.self))
    }

    /// The timeout column of `serial`'s line in the text of /proc/keys.
    static func remainingLifetime(of serial: Int32, procKeys: String) -> String? {
        let digits = String(UInt32(bitPattern: serial), radix: 16)
        let id = String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        for line in procKeys.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[0] == id else { continue }
            let timeout = String(fields[3])
            return timeout == "perm" || timeout == "expd" ? nil : timeout
        }
        return nil
    }

    private static func check(_ status: Int32, _ operation: String) throws(KeyringError) {
        if status != 0 { throw lastError(operation) }
    }

    private static func lastError(_ operation: String) -> KeyringError {
        KeyringError(operation: operation, errno: errno)
    }
}
