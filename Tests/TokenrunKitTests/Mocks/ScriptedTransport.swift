import FoundationEssentials
import Synchronization
import Testing
@testable import TokenrunOAuth

/// A fake `HTTPTransport`: answers with scripted responses or transport errors,
/// in order, and records every request it was sent.
final class ScriptedTransport: HTTPTransport, Sendable {
    /// One scripted answer.
    enum Step: Sendable {
        case respond(HTTPResponse)
        case fail(TransportError)
    }

    /// A request as the transport saw it.
    struct Recorded: Sendable {
        let url: String
        let headers: [(String, String)]
        let body: [UInt8]
        let limits: TransportLimits

        /// The first header of that name, case-insensitively.
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// The form-encoded body, decoded, in order.
        var form: [(String, String)] {
            bodyText.split(separator: "&", omittingEmptySubsequences: true).map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (FormDecoding.decode(parts[0]), FormDecoding.decode(parts.count > 1 ? parts[1] : ""))
            }
        }

        /// The value of one form field (the first, when repeated).
        func field(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
    }

    private struct State {
        var steps: [Step]
        var requests: [Recorded] = []
    }

    private let state: Mutex<State>
    /// Answered forever once `steps` are used up; nil: a request beyond the script is a test failure.
    private let then: Step?

    init(_ steps: [Step], then: Step? = nil) {
        state = Mutex(State(steps: steps))
        self.then = then
    }

    /// Answers every request with `step`.
    convenience init(always step: Step) {
        self.init([], then: step)
    }

    var requests: [Recorded] { state.withLock { $0.requests } }
    var requestCount: Int { state.withLock { $0.requests.count } }

    func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
        let step: Step? = state.withLock { state in
            state.requests.append(Recorded(url: request.url, headers: request.headers, body: request.body, limits: limits))
            if state.steps.isEmpty { return then }
            return state.steps.removeFirst()
        }
        switch step {
        case .respond(let response)?: return response
        case .fail(let error)?: throw error
        case nil:
            Issue.record("ScriptedTransport: a request beyond the script was sent to \(request.url)")
            throw .failed("script exhausted")
        }
    }
}

/// Percent-decoding of `application/x-www-form-urlencoded` parts (`+` is a space).
enum FormDecoding {
    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return "<malformed>" }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ScriptedTransport.Step {
    /// A JSON answer (`Content-Type: application/json`).
    static func json(_ status: Int = 200, _ body: String, headers: [(String, String)] = []) -> Self {
        .respond(HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8)))
    }

    /// A successful token response.
    static func token(
        _ accessToken: String, expiresIn: Int = 3600, refreshToken: String? = nil, headers: [(String, String)] = []
    ) -> Self {
        var body = #"{"access_token":"\#(accessToken)","token_type":"Bearer","expires_in":\#(expiresIn)"#
        if let refreshToken { body += #","refresh_token":"\#(refreshToken)""# }
        return .json(200, body + "}", headers: headers)
    }

    /// An OAuth error response (HTTP 400 unless told).
    static func oauthError(_ code: String, status: Int = 400, description: String? = nil) -> Self {
        var body = #"{"error":"\#(code)""#
        if let description { body += #","error_description":"\#(description)""# }
        return .json(status, body + "}")
    }

    /// A bare status with an optional Retry-After.
    static func status(_ status: Int, retryAfter: String? = nil) -> Self {
        .respond(
            HTTPResponse(
                status: status, headers: [("Content-Type", "text/plain")] + (retryAfter.map { [("Retry-After", $0)] } ?? []),
                body: Array("unavailable".utf8)))
    }
}

/// Counts how often the refresher asks for a transport, and hands out one scripted transport.
final class TransportFactory: Sendable {
    let transport: ScriptedTransport
    private let calls = Mutex(0)

    init(_ transport: ScriptedTransport) { self.transport = transport }

    var callCount: Int { calls.withLock { $0 } }

    /// The closure to give to `Refresher` / `TokenService`.
    var make: @Sendable () -> any HTTPTransport {
        { [self] in
            calls.withLock { $0 += 1 }
            return transport
        }
    }
}

/// An injected wall clock, monotonic clock and sleep: sleeping records the
/// duration and moves both clocks on, without waiting.
final class FakeClock: Sendable {
    private struct State {
        var now: Int64
        var monotonicMs: Int64 = 1_000_000
        var sleeps: [Double] = []
    }

    private let state: Mutex<State>

    init(now: Int64) { state = Mutex(State(now: now)) }

    var now: Int64 { state.withLock { $0.now } }
    var sleeps: [Double] { state.withLock { $0.sleeps } }

    func advance(seconds: Int64) {
        state.withLock {
            $0.now += seconds
            $0.monotonicMs += seconds * 1000
        }
    }

    var clock: @Sendable () -> Int64 { { [self] in now } }
    var monotonic: @Sendable () -> Int64 { { [self] in state.withLock { $0.monotonicMs } } }
    var sleep: @Sendable (Double) -> Void {
        { [self] seconds in
            state.withLock {
                $0.sleeps.append(seconds)
                $0.monotonicMs += Int64(seconds * 1000)
                $0.now += Int64(seconds.rounded(.down))
            }
        }
    }
}

/// Collects values handed to a `@Sendable` callback.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}
