// systemd's credential socket protocol (systemd.exec(5), LoadCredential=):
// when a unit's LoadCredential= names an AF_UNIX stream socket, systemd
// connects to it once at each start, from a socket bound to the abstract
// address NUL RANDOM "/unit/" UNIT "/" ID, and reads the credential until the
// connection closes. `tokenrun serve-credentials` answers with a freshly
// refreshed token, so units get one without linking or running tokenrun.

/// Who is asking: from the peer's abstract socket address.
public struct CredentialRequest: Sendable, Equatable {
    public let unit: String
    public let credential: String

    /// Parses a peer address as systemd binds it; nil for any other peer.
    public init?(peerAddress bytes: [UInt8]) {
        guard bytes.first == 0 else { return nil }
        let name = String(decoding: bytes.dropFirst(), as: UTF8.self)
        guard let marker = name.firstRange(of: "/unit/") else { return nil }
        let rest = name[marker.upperBound...]
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let unit = String(rest[..<slash])
        let credential = String(rest[rest.index(after: slash)...])
        guard !unit.isEmpty, !credential.isEmpty, !credential.contains("\0") else { return nil }
        self.unit = unit
        self.credential = credential
    }

    /// The profile and field a credential ID names: "NAME" or "NAME-token" (the access token),
    /// "NAME-xoauth2" (the SASL XOAUTH2 string); `map` (ID → profile) wins.
    public func target(map: [String: String]) -> (profile: String, field: String) {
        if let profile = map[credential] { return (profile, "access_token") }
        for (suffix, field) in [("-token", "access_token"), ("-xoauth2", "xoauth2")] where credential.hasSuffix(suffix) {
            return (String(credential.dropLast(suffix.count)), field)
        }
        return (credential, "access_token")
    }
}
