// The device authorization request (RFC 8628 §3.1–3.2). The device code is a
// secret (it redeems the grant) and is kept as a SecretString; the user code
// and verification URI are meant to be shown.
import TokenrunSupport

/// What the device authorization endpoint answered.
public struct DeviceAuthorization: Sendable {
    public var deviceCode: SecretString
    public var userCode: String
    public var verificationURI: String
    public var verificationURIComplete: String?
    /// Seconds the codes stay valid.
    public var expiresIn: Int64
    /// Seconds to wait between polls.
    public var interval: Int64

    /// Asks `url` for a device code and user code for `scopes`.
    public static func start(
        url: String, scopes: [String], client: ClientCredentials, transport: any HTTPTransport, limits: TransportLimits = TransportLimits()
    ) throws(TokenEndpointError) -> DeviceAuthorization {
        var fields: [(String, String)] = []
        if !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: " "))) }
        let response = try OAuthPost(url: url, transport: transport, limits: limits, what: "device authorization endpoint")
            .send(fields, client: client)
        return try interpret(response, url: url)
    }

    /// Reads the endpoint's answer (pure).
    public static func interpret(_ response: HTTPResponse, url: String) throws(TokenEndpointError) -> DeviceAuthorization {
        if !(200..<300).contains(response.status) {
            // Errors have the token endpoint's shape (RFC 8628 §3.2).
            _ = try TokenEndpoint.interpret(response, url: url)
            throw .unreadable(reason: "the device authorization endpoint answered HTTP \(response.status)")
        }
        guard case .object(let object)? = JSONValue.parse(response.body) else {
            throw .unreadable(
                reason: TokenEndpoint.describeNonJSON(
                    response, status: response.status, contentType: response.header("Content-Type") ?? "no content type", url: url))
        }
        func text(_ key: String) -> String? {
            if case .string(let value)? = object[key], !value.isEmpty { return value }
            return nil
        }
        func seconds(_ key: String) -> Int64? {
            switch object[key] {
            case .integer(let value)?: return (0..<1_000_000_000).contains(value) ? value : nil
            case .number(let value)?: return value.isFinite && value >= 0 && value < 1e9 ? Int64(value) : nil
            case .string(let value)?: return Int64(value)
            default: return nil
            }
        }
        guard let deviceCode = text("device_code"), let userCode = text("user_code") else {
            throw .unreadable(reason: "the device authorization endpoint's answer has no device_code or user_code")
        }
        // Google calls it verification_url.
        guard let uri = text("verification_uri") ?? text("verification_url") else {
            throw .unreadable(reason: "the device authorization endpoint's answer has no verification_uri")
        }
        return DeviceAuthorization(
            deviceCode: SecretString(deviceCode), userCode: TokenEndpoint.sanitize(userCode), verificationURI: TokenEndpoint.sanitize(uri),
            verificationURIComplete: text("verification_uri_complete").map(TokenEndpoint.sanitize),
            expiresIn: seconds("expires_in") ?? 600, interval: max(seconds("interval") ?? 5, 1))
    }
}
