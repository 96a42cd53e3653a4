// The fuzz targets inside `make test`: every committed seed and regression
// input, then a short seeded mutation run per target (TOKENRUN_FUZZ_ITERATIONS
// raises it). `make fuzz` runs the same targets for minutes under libFuzzer.
import TokenrunFuzz
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("fuzz targets")
struct FuzzTests {
    /// About a second per target in a debug build, unless TOKENRUN_FUZZ_ITERATIONS says otherwise.
    static func iterations(_ target: FuzzTarget) -> Int {
        if let text = getenv("TOKENRUN_FUZZ_ITERATIONS"), let value = Int(String(cString: text)) { return value }
        switch target {
        case .profile: return 500
        case .vault: return 400
        case .tokenResponse: return 1_000
        }
    }

    @Test("every seed and regression input holds every property", arguments: FuzzTarget.allCases)
    func corpus(_ target: FuzzTarget) {
        let seeds = FuzzCorpus.files(in: FuzzCorpus.seedDirectory(target))
        #expect(!seeds.isEmpty, "no seeds in \(FuzzCorpus.seedDirectory(target))")
        for file in seeds + FuzzCorpus.files(in: FuzzCorpus.regressionDirectory(target)) {
            let failure = target.check(file.bytes)
            #expect(failure == nil, "\(file.name): \(failure.map(String.init(describing:)) ?? "")")
        }
    }

    @Test("seeded mutations of the corpus hold every property", arguments: FuzzTarget.allCases)
    func mutations(_ target: FuzzTarget) {
        let seeds = (FuzzCorpus.files(in: FuzzCorpus.seedDirectory(target)) + FuzzCorpus.files(in: FuzzCorpus.regressionDirectory(target)))
            .map(\.bytes)
        let finding = target.fuzz(seeds: seeds, iterations: Self.iterations(target), seed: 0x746F_6B65_6E72_756E)
        #expect(finding == nil, "\(finding.map { "\($0.failure) — input: \($0.input)" } ?? "")")
    }
}
