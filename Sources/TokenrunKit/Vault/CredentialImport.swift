// `tokenrun import`: a refresh token (and optionally a client secret) read
// from standard input — never argv — stored as a new connected credential.

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

    /// Stores `input` for `profile`, keeping a client secret already in the vault unless a new one is given.
    /// Returns whether a credential was replaced.
    @discardableResult
    public static func store(_ input: Input, profile: String, in vault: UnlockedVault, now: Int64) throws -> Bool {
        let existing = try vault.credential(for: profile)
        var credential = Credential(
            profile: profile, refreshToken: input.refreshToken,
            clientSecret: input.clientSecret ?? existing?.clientSecret, state: .connected, updatedAt: now)
        credential.obtainedBy = "import"
        credential.grantedAt = now
        try vault.store(credential)
        return existing != nil
    }
}
