// The vault and key checks: vault.present, vault.readable, vault.permissions,
// key.source, key.permissions. The vault file is read once, directly and
// without the lock (writes replace it atomically, so a read sees a whole
// file): doctor must not create the lock file, nor refuse to look at a vault
// whose permissions are wrong — it reports them instead.
import TokenrunSupport
import TokenrunVault
#if canImport(Glibc)
    import Glibc
#endif

extension Doctor {
    /// What the vault checks found, for the checks that follow.
    struct VaultInspection {
        var checks: [DoctorCheck] = []
        /// Whether a vault file exists.
        var exists = false
        /// The profile names of the records (they are in the clear), sorted.
        var storedProfiles: [String] = []
        /// Every credential, when the vault could be opened without asking.
        var credentials: [String: Credential]?
        /// The vault file's header line (how its key is wrapped), for the fleet check.
        var headerLine: String?
    }

    func inspectVault() -> VaultInspection {
        var result = VaultInspection()
        let path = paths.vault
        let status: FileStatus?
        do {
            status = try FileSystem.status(path)
        } catch {
            result.checks.append(.fail("vault.present", TokenrunError.fileSystem(error, what: "the vault")))
            return result
        }
        guard let status else {
            let name = requested.first ?? "NAME"
            result.checks.append(
                .warn(
                    "vault.present", "no vault at \(path) yet: no credential is stored",
                    fix: "tokenrun login -p \(name) (or tokenrun import -p \(name) --refresh-token-stdin) creates it"))
            if let check = keyPermissionsCheck(kind: nil) { result.checks.append(check) }
            return result
        }
        result.exists = true
        result.checks.append(.pass("vault.present", path))

        let (readable, file) = readVault(path, status: status)
        let permissions = vaultPermissionsCheck(path, status: status)
        guard let file else {
            result.checks += [readable, permissions]
            if let check = keyPermissionsCheck(kind: nil) { result.checks.append(check) }
            return result
        }
        result.storedProfiles = file.header.records.map(\.profile).sorted()
        let lines = file.authenticatedBytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2)
        if lines.count >= 2 { result.headerLine = String(decoding: lines[1], as: UTF8.self) }

        let sealed = SealedVault(storage: FileVaultStorage(path: path))
        let kind = file.header.keySource
        let count = file.header.records.count
        let described =
            "format version \(file.version), sealed with \(kind.phrase), \(count) credential\(count == 1 ? "" : "s")"
        var readableCheck = DoctorCheck.pass("vault.readable", "\(described); records not opened (no key)")
        /// Opens every record with `unlocked`, as a launch would.
        func openAll(_ unlocked: UnlockedVault) throws {
            var credentials: [String: Credential] = [:]
            for record in file.header.records { credentials[record.profile] = try unlocked.open(record) }
            result.credentials = credentials
            readableCheck = .pass("vault.readable", "\(described), every record opens and verifies")
        }
        /// key.source, with the key every command's unlock takes (`SealedVault.firstKey`: a key
        /// `tokenrun vault unlock` cached, else the key sources in order); opening the records sets
        /// vault.readable.
        func checkKey() -> DoctorCheck {
            let key: SealedVault.ResolvedKey
            do {
                key = try sealed.firstKey(for: file.header, environment: keys)
            } catch TokenrunError.noKeySource(let vault, let sealedWith, let skipped) where kind == .passphrase {
                let error = TokenrunError.noKeySource(vault: vault, sealedWith: sealedWith, skipped: skipped)
                let fix = error.fixHint
                if hasTerminal {
                    return .warn(
                        "key.source",
                        "the vault is sealed with a passphrase and only the terminal prompt can give it: unattended runs (cron, services) cannot unlock it, and doctor did not ask, so credentials were not checked",
                        fix: fix)
                } else {
                    return .warn(
                        "key.source",
                        "the vault is sealed with a passphrase and nothing here gives it (no TOKENRUN_PASSPHRASE_FILE, TOKENRUN_PASSPHRASE or systemd credential, no terminal); credentials were not checked",
                        fix: fix)
                }
            } catch let error as TokenrunError {
                var message = error.summary
                if case .noKeySource(_, _, let skipped) = error, !skipped.isEmpty { message += ": " + skipped.joined(separator: "; ") }
                return DoctorCheck("key.source", .fail, message, fix: error.fixHint)
            } catch {
                return .fail("key.source", "cannot read the key: \(error)", fix: "tokenrun vault status")
            }
            do {
                try openAll(try sealed.unlock(file, with: key))
                return .pass("key.source", "\(key.origin) unlocks the vault")
            } catch {
                let error = (error as? TokenrunError) ?? .crypto("\(error)")
                switch error {
                case .wrongKey, .wrongPassphrase:
                    return .fail("key.source", error)
                default:
                    // The key fits (its id matches) but the contents do not verify: the file is at fault.
                    readableCheck = .fail("vault.readable", error)
                    return .pass("key.source", "\(key.origin) fits the vault")
                }
            }
        }
        let keyCheck = checkKey()
        result.checks += [readableCheck, permissions, keyCheck]
        if let check = keyPermissionsCheck(kind: kind) { result.checks.append(check) }
        return result
    }

    /// vault.readable: the file is a regular file whose header parses.
    func readVault(_ path: String, status: FileStatus) -> (DoctorCheck, VaultFile?) {
        if status.isSymbolicLink { return (.fail("vault.readable", .symbolicLink(path: path, what: "the vault")), nil) }
        guard status.isRegularFile else {
            return (
                .fail("vault.readable", "\(path) is not a regular file", fix: "move \(path) aside; tokenrun keeps the vault there"), nil
            )
        }
        let bytes: [UInt8]
        do {
            guard let read = try FileSystem.readFile(path, limit: FileVaultStorage.sizeLimit) else {
                return (.fail("vault.readable", .vaultNotFound(path: path)), nil)
            }
            bytes = read
        } catch {
            if error.errno == EFBIG {
                return (
                    .fail(
                        "vault.readable",
                        .vaultCorrupt(path: path, reason: "it is larger than \(FileVaultStorage.sizeLimit >> 20) MiB")), nil
                )
            }
            return (.fail("vault.readable", .fileSystem(error, what: "the vault")), nil)
        }
        do {
            let file = try SealedVault(storage: FileVaultStorage(path: path)).decode(bytes)
            return (.pass("vault.readable", "the header parses"), file)
        } catch let error as TokenrunError {
            return (.fail("vault.readable", error), nil)
        } catch {
            return (.fail("vault.readable", "cannot read \(path): \(error)", fix: "tokenrun vault status"), nil)
        }
    }

    /// vault.permissions: the file is ours and private; its directory is ours and not writable by others.
    func vaultPermissionsCheck(_ path: String, status: FileStatus) -> DoctorCheck {
        let name = "vault.permissions"
        var described = ""
        if !status.isSymbolicLink {
            if status.ownerID != FileSystem.currentUserID {
                return .fail(name, .wrongOwner(path: path, owner: status.ownerID, what: "the vault"))
            }
            if status.mode & 0o077 != 0 {
                return .fail(
                    name,
                    "the vault \(path) is open to other users (mode \(TokenrunError.octal(status.mode))); tokenrun refuses to use it",
                    fix: "chmod 600 \(TokenrunError.shellQuoted(path))")
            }
            described = "\(path) is \(TokenrunError.octal(status.mode))"
        }
        let directory = path.directoryName
        var st = stat()
        guard stat(directory, &st) == 0 else {
            return .fail(
                name, .fileSystem(SystemCallError(operation: "stat", path: directory, errno: errno), what: "the vault directory"))
        }
        let mode = UInt32(st.st_mode) & 0o7777
        if UInt32(st.st_uid) != FileSystem.currentUserID {
            return .fail(name, .wrongOwner(path: directory, owner: UInt32(st.st_uid), what: "the vault directory"))
        }
        if mode & 0o022 != 0 {
            return .fail(
                name,
                "the vault directory \(directory) is writable by other users (mode \(TokenrunError.octal(mode))): they could replace the vault",
                fix: "chmod 700 \(TokenrunError.shellQuoted(directory))")
        }
        let directoryText = "its directory is yours and not writable by others"
        return .pass(name, described.isEmpty ? directoryText : "\(described); \(directoryText)")
    }

    /// The key or passphrase file that would unlock a vault sealed with `kind` (any kind when nil), if there is one.
    func keyFileInUse(kind: KeySourceKind?) -> (path: String, what: String)? {
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if kind != .passphrase, let path = nonEmpty("TOKENRUN_KEY_FILE") { return (path, "the key file") }
        if let directory = nonEmpty("CREDENTIALS_DIRECTORY"),
            FileSystem.exists(Paths.join(directory, KeySources.credentialName))
        {
            return nil  // systemd owns that file and its permissions
        }
        if kind == .passphrase {
            if nonEmpty("TOKENRUN_PASSPHRASE") != nil { return nil }
            return nonEmpty("TOKENRUN_PASSPHRASE_FILE").map { ($0, "the passphrase file") }
        }
        return (paths.defaultKeyFile, "the key file")
    }

    /// key.permissions: the key (or passphrase) file in use is a private regular file of ours.
    func keyPermissionsCheck(kind: KeySourceKind?) -> DoctorCheck? {
        guard let (path, what) = keyFileInUse(kind: kind) else { return nil }
        let name = "key.permissions"
        let status: FileStatus?
        do {
            status = try FileSystem.status(path)
        } catch {
            return .fail(name, .fileSystem(error, what: what))
        }
        guard let status else { return nil }  // key.source says it is missing
        if status.isSymbolicLink { return .fail(name, .symbolicLink(path: path, what: what)) }
        guard status.isRegularFile else {
            return .fail(name, "\(what) \(path) is not a regular file", fix: "restore \(path) from a backup")
        }
        if status.ownerID != FileSystem.currentUserID {
            return .fail(name, .wrongOwner(path: path, owner: status.ownerID, what: what))
        }
        if status.mode & 0o077 != 0 {
            return .fail(name, .unsafePermissions(path: path, mode: status.mode, what: what))
        }
        return .pass(name, "\(what) \(path) is \(TokenrunError.octal(status.mode)) and yours")
    }
}
