import TestSupport
import Testing

@Suite("end to end: single-flight refresh")
struct ConcurrencyTests {
    @Test("20 concurrent launches with an expired token make exactly one token request and no reuse")
    func twentyLaunches() async throws {
        let e = try EndToEnd()
        try e.login()
        let results = await withTaskGroup(of: CLIResult.self) { group in
            for _ in 0..<20 { group.addTask { e.launch() } }
            return await group.reduce(into: [CLIResult]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.filter { $0.status != 0 }.map(\.all))")
        #expect(results.allSatisfy { $0.stdout.contains("\"status\": 200") })
        let stats = try e.provider.stats()
        #expect(stats.token_requests == 1)
        #expect(stats.reuse_events == 0)
        #expect(stats.api_ok == 20)
    }
}
