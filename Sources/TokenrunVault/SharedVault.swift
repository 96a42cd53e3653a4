// A fleet's shared vault in PostgreSQL: the tables and the statements on them.
// The database holds, per credential, the sealed record and its MAC exactly as
// the vault file holds them, with a version that grows on every change; the
// vault's header line (its secret key wrapped under the key file: nothing in
// the clear); and a log of who refreshed what. It never sees a token, a client
// secret or a key. Each host keeps its own vault file with the same header as
// a local copy, launches from it while its token is fresh, and reaches the
// database only inside the expiry window and for vault commands.
//
// Schema 1 (tokenrun vault init creates it, tokenrun vault migrate upgrades it):
//
//     tokenrun_meta      (name text PRIMARY KEY, value text)      'schema' → '1', 'header' → the header line
//     tokenrun_records   (profile text PRIMARY KEY, sealed text, mac text, version bigint,
//                         updated_at timestamptz, updated_by text)
//     tokenrun_refreshes (id bigserial PRIMARY KEY, profile text, host text, at timestamptz,
//                         outcome text, rotated boolean)
import TokenrunSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One credential's row.
public struct SharedRecord: Sendable, Equatable {
    public var record: SealedRecord
    public var version: Int64
    public var updatedAt: String
    public var updatedBy: String
}

/// One row of the fleet's refresh log.
public struct FleetRefresh: Sendable, Equatable {
    public var profile: String
    public var host: String
    public var at: String
    public var outcome: String
    public var rotated: Bool
}

/// The statements of the shared vault, over one session.
public struct SharedVault: Sendable {
    public static let schemaVersion = 1
    public let session: PostgresSession

    public init(session: PostgresSession) { self.session = session }

    public var location: String { session.url.shown }

    /// This host's name in the shared vault: TOKENRUN_HOSTNAME, else the system's host name.
    public static func hostName(environment: [String: String]) -> String {
        if let given = environment["TOKENRUN_HOSTNAME"], !given.isEmpty { return given }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static let schemaStatements = [
        "CREATE TABLE IF NOT EXISTS tokenrun_meta (name text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS tokenrun_records (profile text PRIMARY KEY, sealed text NOT NULL, mac text NOT NULL, \
        version bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), updated_by text NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS tokenrun_refreshes (id bigserial PRIMARY KEY, profile text NOT NULL, host text NOT NULL, \
        at timestamptz NOT NULL DEFAULT now(), outcome text NOT NULL, rotated boolean NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS tokenrun_refreshes_profile_at ON tokenrun_refreshes (profile, at)",
    ]

    /// The key of the advisory lock that serializes schema changes between hosts.
    static let schemaLock = "7309140"

    /// The schema's version, or nil when the tables are not there.
    public func installedSchema() throws -> Int? {
        let rows = try session.execute("SELECT to_regclass('tokenrun_meta') IS NOT NULL")
        guard rows.first?.first == "t" else { return nil }
        let version = try session.execute("SELECT value FROM tokenrun_meta WHERE name = 'schema'")
        return version.first?.first.flatMap { $0.flatMap { Int($0) } }
    }

    /// Creates or upgrades the tables to this version's schema, in one transaction that
    /// holds an advisory lock (two hosts running it at once do it once). Returns the version
    /// found before (nil: none).
    @discardableResult
    public func migrate() throws -> Int? {
        let found = try installedSchema()
        if let found, found > Self.schemaVersion {
            throw TokenrunError.sharedVaultRefused(
                location: location, reason: "its schema is version \(found), newer than this tokenrun's \(Self.schemaVersion)",
                hint: "upgrade tokenrun on this host to the fleet's version")
        }
        if found == Self.schemaVersion { return found }
        try transaction {
            try session.execute("SELECT pg_advisory_xact_lock(\(Self.schemaLock))")
            for statement in Self.schemaStatements { try session.execute(statement) }
            try session.execute(
                "INSERT INTO tokenrun_meta (name, value) VALUES ('schema', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                ["\(Self.schemaVersion)"])
        }
        return found
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try session.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        do {
            let result = try body()
            try session.commit()
            return result
        } catch {
            _ = try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// The shared vault's header line, or nil before any host has set one.
    public func header() throws -> String? {
        try session.execute("SELECT value FROM tokenrun_meta WHERE name = 'header'").first?.first ?? nil
    }

    /// Sets the header line unless one is set already; returns the one that stands.
    public func setHeaderIfAbsent(_ line: String) throws -> String {
        try session.execute("INSERT INTO tokenrun_meta (name, value) VALUES ('header', $1) ON CONFLICT (name) DO NOTHING", [line])
        return try header() ?? line
    }

    static let recordColumns =
        "profile, sealed, mac, version, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), updated_by"

    static func sharedRecord(_ row: [String?]) -> SharedRecord? {
        guard row.count == 6, let profile = row[0], let sealed = row[1], let mac = row[2], let version = row[3].flatMap({ Int64($0) })
        else { return nil }
        return SharedRecord(
            record: SealedRecord(profile: profile, sealed: sealed, mac: mac), version: version, updatedAt: row[4] ?? "",
            updatedBy: row[5] ?? "")
    }

    /// Every credential's row, by profile name.
    public func records() throws -> [SharedRecord] {
        try session.execute("SELECT \(Self.recordColumns) FROM tokenrun_records ORDER BY profile").compactMap(Self.sharedRecord)
    }

    /// One credential's row, or nil.
    public func record(_ profile: String) throws -> SharedRecord? {
        try session.execute("SELECT \(Self.recordColumns) FROM tokenrun_records WHERE profile = $1", [profile])
            .compactMap(Self.sharedRecord).first
    }

    /// How many credentials the shared vault holds.
    public func count() throws -> Int {
        let value = try session.execute("SELECT count(*) FROM tokenrun_records").first?.first ?? nil
        return Int(value ?? "0") ?? 0
    }

    /// Inserts a credential's row when there is none; false (and nothing written) when there is.
    public func insert(_ record: SealedRecord, host: String) throws -> Bool {
        let rows = try session.execute(
            """
            INSERT INTO tokenrun_records (profile, sealed, mac, version, updated_by) VALUES ($1, $2, $3, 1, $4) \
            ON CONFLICT (profile) DO NOTHING RETURNING version
            """, [record.profile, record.sealed, record.mac, host])
        return !rows.isEmpty
    }

    /// Writes a credential's row (a new version) unless it holds this record already;
    /// true when it wrote.
    @discardableResult
    public func put(_ record: SealedRecord, host: String) throws -> Bool {
        !(try session.execute(
            """
            INSERT INTO tokenrun_records (profile, sealed, mac, version, updated_by) VALUES ($1, $2, $3, 1, $4) \
            ON CONFLICT (profile) DO UPDATE SET sealed = EXCLUDED.sealed, mac = EXCLUDED.mac, \
            version = tokenrun_records.version + 1, updated_at = now(), updated_by = EXCLUDED.updated_by \
            WHERE tokenrun_records.sealed <> EXCLUDED.sealed RETURNING version
            """, [record.profile, record.sealed, record.mac, host])).isEmpty
    }

    /// Takes the credential's lease in this transaction (held until it ends): every writer of
    /// a credential's row takes it, so a refresh elsewhere and this write come one after the other.
    public func lock(_ credential: String, waiting: Double = 0) throws -> Bool {
        try session.executeUnlessLocked(
            "SELECT pg_advisory_xact_lock(hashtextextended('tokenrun refresh ' || $1, 0))", [credential], waiting: waiting)
    }

    /// Removes a credential's row; false when there was none.
    @discardableResult
    public func remove(_ profile: String) throws -> Bool {
        !(try session.execute("DELETE FROM tokenrun_records WHERE profile = $1 RETURNING profile", [profile])).isEmpty
    }

    /// Notes a refresh in the fleet's log.
    public func logRefresh(_ profile: String, host: String, outcome: String, rotated: Bool) throws {
        try session.execute(
            "INSERT INTO tokenrun_refreshes (profile, host, outcome, rotated) VALUES ($1, $2, $3, $4)",
            [profile, host, outcome, rotated ? "true" : "false"])
    }

    static func fleetRefresh(_ row: [String?]) -> FleetRefresh? {
        guard row.count == 5, let profile = row[0], let host = row[1], let at = row[2], let outcome = row[3] else { return nil }
        return FleetRefresh(profile: profile, host: host, at: at, outcome: outcome, rotated: row[4] == "t")
    }

    static let refreshColumns = "profile, host, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), outcome, rotated"

    /// The fleet's refresh log, newest last: the last `limit` entries, of `profile` when given.
    public func refreshes(profile: String?, limit: Int) throws -> [FleetRefresh] {
        let rows = try session.execute(
            """
            SELECT * FROM (SELECT \(Self.refreshColumns), id FROM tokenrun_refreshes WHERE $1::text IS NULL OR profile = $1 \
            ORDER BY id DESC LIMIT $2) AS last ORDER BY id
            """, [profile, "\(limit)"])
        return rows.compactMap { Self.fleetRefresh(Array($0.prefix(5))) }
    }

    /// The last refresh of each credential.
    public func lastRefreshes() throws -> [String: FleetRefresh] {
        let rows = try session.execute(
            "SELECT DISTINCT ON (profile) \(Self.refreshColumns) FROM tokenrun_refreshes ORDER BY profile, id DESC")
        var last: [String: FleetRefresh] = [:]
        for refresh in rows.compactMap(Self.fleetRefresh) { last[refresh.profile] = refresh }
        return last
    }
}
