import Synchronization
@testable import TokenrunOAuth

/// A `ScriptedTransport` that also notes the fake clock's monotonic time of
/// every request, so tests can see when polls were sent.
final class ClockedTransport: HTTPTransport, Sendable {
    let script: ScriptedTransport
    private let clock: FakeClock
    private let times = Mutex<[Int64]>([])

    init(_ script: ScriptedTransport, clock: FakeClock) {
        self.script = script
        self.clock = clock
    }

    /// The monotonic time (ms) at each request, in order.
    var requestTimes: [Int64] { times.withLock { $0 } }

    func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
        let now = clock.monotonic()
        times.withLock { $0.append(now) }
        return try script.post(request, limits: limits)
    }
}
