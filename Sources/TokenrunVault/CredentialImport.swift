// `tokenrun import`: a refresh token (and optionally a client secret) read
// from standard input — never argv — stored as a new connected credential.
import TokenrunProfiles
import TokenrunSupport

/// Parsing and storing an imported credential.
public enum CredentialImport {
    /// Longest accepted input: real refresh tokens are well under 4 KiB.
    public static let inputLimit = 16 << 10

    /// The secrets read from standard input.
    public struct Input: Sendable {
        public let refreshToken: SecretString
        public let clientSecret: SecretString?
    }

    /// Splits the input into its lines: the refresh token, then (when asked for) the client secret.
    public static func parse(_ bytes: [UInt8], expectClientSecret: Bool) throws -> Input {
        let lines = try nonEmptyLines(bytes, what: "refresh token")
        guard let token = lines.first else {
            throw TokenrunError.invalidCredentialInput("no refresh token on standard input")
        }
        try check(token, what: "refresh token")
        var secret: SecretString?
        if expectClientSecret {
            guard lines.count >= 2 else {
                throw TokenrunError.invalidCredentialInput(
                    "--client-secret-stdin expects the client secret on the second line of standard input")
            }
            try check(lines[1], what: "client secret")
            secret = SecretString(lines[1])
        }
        guard lines.count <= (expectClientSecret ? 2 : 1) else {
            throw TokenrunError.invalidCredentialInput(
                "standard input has \(lines.count) lines; expected only the refresh token\(expectClientSecret ? " and the client secret" : "")"
            )
        }
        return Input(refreshToken: SecretString(token), clientSecret: secret)
    }

    /// One secret alone on one line (an API key).
    public static func parseSingleSecret(_ bytes: [UInt8], what: String) throws -> SecretString {
        let lines = try nonEmptyLines(bytes, what: what)
        guard lines.count == 1 else {
            throw TokenrunError.invalidCredentialInput(
                lines.isEmpty ? "no \(what) on standard input" : "standard input has \(lines.count) lines; expected only the \(what)")
        }
        try check(lines[0], what: what)
        return SecretString(lines[0])
    }

    /// The input's lines, trimmed, without the empty ones.
    static func nonEmptyLines(_ bytes: [UInt8], what: String) throws -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TokenrunError.invalidCredentialInput("the input is not UTF-8 text; paste the \(what) itself")
        }
        return text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { String($0).trimmingSpaces }
            .filter { !$0.isEmpty }
    }

    static func check(_ value: String, what: String) throws {
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == " " }) {
            throw TokenrunError.invalidCredentialInput("the \(what) contains spaces or control characters; paste it alone on one line")
        }
        if value.utf8.count > inputLimit {
            throw TokenrunError.invalidCredentialInput("the \(what) is longer than \(inputLimit) bytes")
        }
    }

    /// Stores `input` for `profile`, keeping a client secret already in the vault unless a new one is given,
    /// bound to `issuer` (the token endpoint and client the profile names): its refresh token is sent
    /// nowhere else. Returns whether a credential was replaced.
    @discardableResult
    public static func store(_ input: Input, profile: String, issuer: CredentialIssuer?, in vault: UnlockedVault, now: Int64) throws
        -> Bool
    {
        let existing = try vault.credential(for: profile)
        var credential = Credential(
            profile: profile, refreshToken: input.refreshToken,
            clientSecret: input.clientSecret ?? existing?.clientSecret, state: .connected, updatedAt: now)
        credential.obtainedBy = "import"
        credential.grantedAt = now
        if let issuer { credential.bind(to: issuer) }
        try vault.store(credential)
        return existing != nil
    }

    /// One line of a batch import.
    public struct BatchItem: Sendable {
        public let profile: String
        public let input: Input
    }

    /// Longest accepted batch: 64 MiB (hundreds of thousands of credentials).
    public static let batchLimit = 64 << 20

    /// Parses JSON lines `{"profile": NAME, "refresh_token": TOKEN[, "client_secret": SECRET]}`.
    /// Errors name the line, never its contents.
    public static func parseBatch(_ bytes: [UInt8]) throws -> [BatchItem] {
        var items: [BatchItem] = []
        var seen = Set<String>()
        for (offset, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
            let object: JSONObjectReader
            let profile: String
            let token: String
            let secret: String?
            do throws(JSONReadError) {
                object = try JSONObjectReader(try JSONReader.parse(line))
                profile = try object.string("profile")
                token = try object.string("refresh_token")
                secret = try object.optionalString("client_secret")
            } catch {
                throw TokenrunError.invalidCredentialInput(
                    "line \(number) is not a JSON object with string members \"profile\" and \"refresh_token\" (and optionally \"client_secret\")"
                )
            }
            // Neither a member name nor a bad profile name is quoted: a batch with its fields
            // mixed up would otherwise print a token.
            if object.members.keys.contains(where: { !["profile", "refresh_token", "client_secret"].contains($0) }) {
                throw TokenrunError.invalidCredentialInput(
                    "line \(number) has a member other than \"profile\", \"refresh_token\" and \"client_secret\"")
            }
            guard ProfileParser.isValidName(profile) else {
                throw TokenrunError.invalidCredentialInput(
                    "line \(number): the \"profile\" value is not a valid profile name (letters, digits, '.', '_' and '-')")
            }
            guard seen.insert(profile).inserted else {
                throw TokenrunError.invalidCredentialInput("line \(number): profile \(profile) appears twice")
            }
            do {
                try check(token, what: "refresh token")
                if let secret { try check(secret, what: "client secret") }
            } catch TokenrunError.invalidCredentialInput(let reason) {
                throw TokenrunError.invalidCredentialInput("line \(number): \(reason)")
            }
            guard !token.isEmpty else { throw TokenrunError.invalidCredentialInput("line \(number): the refresh token is empty") }
            items.append(
                BatchItem(profile: profile, input: Input(refreshToken: SecretString(token), clientSecret: secret.map(SecretString.init))))
        }
        guard !items.isEmpty else { throw TokenrunError.invalidCredentialInput("no credentials on standard input") }
        return items
    }

    /// Stores every item in one vault write, each bound to `issuers[profile]`;
    /// returns the profiles whose credential was replaced.
    public static func storeAll(_ items: [BatchItem], issuers: [String: CredentialIssuer], in vault: UnlockedVault, now: Int64) throws
        -> Set<String>
    {
        var changes: [String: @Sendable (Credential?) -> Credential] = [:]
        for item in items {
            let input = item.input
            let issuer = issuers[item.profile]
            changes[item.profile] = { existing in
                var credential = Credential(
                    profile: item.profile, refreshToken: input.refreshToken,
                    clientSecret: input.clientSecret ?? existing?.clientSecret, state: .connected, updatedAt: now)
                credential.obtainedBy = "import"
                credential.grantedAt = now
                if let issuer { credential.bind(to: issuer) }
                return credential
            }
        }
        return try vault.storeAll(changes)
    }
}
