// What a fleet's shared vault exchanges with this host's vault file: the header
// line (how the secret key is wrapped: nothing in it is secret in the clear)
// and sealed records with their own MACs, byte for byte as the file holds them.
// Every host of a fleet keeps a local copy with the same header, so a record
// sealed on one opens on all; nothing is ever sealed or opened for the database.
import TokenrunSodium
import TokenrunSupport

extension UnlockedVault {
    /// The header line as the file holds it (the second line), for the shared vault.
    public func headerLine() throws -> String {
        var bare = header
        bare.records = []
        let bytes = try crypto { try VaultFile.serialize(bare, macKey: macKey) }
        let lines = bytes.split(separator: VaultFile.newline)
        return String(decoding: lines[1], as: UTF8.self)
    }

    /// Every record as stored, sealed, each with its MAC, after checking the whole file.
    public func sealedRecords() throws -> [SealedRecord] {
        guard let bytes = try storage.load() else { throw TokenrunError.vaultNotFound(path: storage.location) }
        let file = try SealedVault(storage: storage).decode(bytes)
        try verify(file)
        return file.header.records  // read from the file: each with its MAC, checked
    }

    /// Writes records that came from the shared vault into this file, as they are. Each must
    /// carry this vault's MAC for its profile name (a record from another vault, renamed or
    /// altered, is refused before anything is written) and open as that profile's credential.
    /// Returns the profiles whose record changed.
    @discardableResult
    public func adopt(_ incoming: [SealedRecord], from location: String) throws -> [String] {
        for record in incoming {
            do {
                try verifyRecord(record)
                _ = try open(record)
            } catch {
                throw TokenrunError.sharedVaultTampered(
                    location: location, reason: "the record for \(Quoting.message(record.profile)) fails authentication")
            }
        }
        var changed: [String] = []
        // Into this host's file only: the records came from the shared vault.
        let local = (storage as? FleetVaultStorage)?.local ?? storage
        try local.update { current in
            guard let current else { throw TokenrunError.vaultNotFound(path: storage.location) }
            let file = try SealedVault(storage: storage).decode(current)
            try verify(file)
            var header = file.header
            for record in incoming {
                let stored = header.records.first { $0.profile == record.profile }
                if stored?.sealed == record.sealed { continue }
                header.records.removeAll { $0.profile == record.profile }
                header.records.append(SealedRecord(profile: record.profile, sealed: record.sealed))
                changed.append(record.profile)
            }
            if changed.isEmpty { return nil }
            return try crypto { try VaultFile.serialize(header, macKey: macKey) }
        }
        return changed
    }
}

extension SealedVault {
    /// Creates this host's vault file from a shared vault's header line, opened with the
    /// first key source (a key file copied from another host of the fleet, or the systemd
    /// credential): a key that does not fit is `wrongKey`, and nothing is written.
    public func adopt(headerLine: String, from location: String, environment: KeyEnvironment) throws -> UnlockedVault {
        let header: VaultFile.Header
        do {
            header = try VaultFile.header(ArraySlice(Array(headerLine.utf8)))
        } catch {
            throw TokenrunError.sharedVaultTampered(location: location, reason: "its vault header is not one tokenrun wrote")
        }
        let material = try KeySources.resolve(for: header.keySource, vault: location, environment: environment)
        let unlocked = try unwrap(header, with: material)
        var created = false
        try storage.update { current in
            if current != nil { return nil }
            created = true
            return try crypto { try VaultFile.serialize(header, macKey: unlocked.macKey) }
        }
        if !created { throw TokenrunError.vaultExists(path: storage.location) }
        return unlocked
    }
}
