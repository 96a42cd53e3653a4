// A deterministic, coverage-blind fuzzer for machines and runs without
// libFuzzer: seeded mutations of the corpus (bit flips, byte changes,
// truncations, deletions, insertions of random bytes and of the target's
// syntax, duplicated and spliced ranges, long runs of one token), each
// checked against the target's properties. The same seed gives the same
// inputs, so a failure found in `make test` reproduces exactly.

/// SplitMix64: small, fast and good enough to pick mutations.
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound (0 when bound < 1).
    public mutating func below(_ bound: Int) -> Int {
        bound < 1 ? 0 : Int(next() % UInt64(bound))
    }
}

/// Mutates inputs for one target.
public struct Mutator: Sendable {
    public let target: FuzzTarget
    public var random: SplitMix64
    /// Inputs never grow beyond this many bytes.
    public var maxLength = 64 << 10
    private let dictionary: [[UInt8]]

    public init(target: FuzzTarget, seed: UInt64) {
        self.target = target
        random = SplitMix64(seed: seed)
        dictionary = target.dictionary
    }

    /// One to four mutations of `input`; `other` is spliced from.
    public mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...random.below(4) {
            let at = random.below(bytes.count + 1)
            switch random.below(10) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= UInt8(1) << UInt8(random.below(8))
            case 1 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                bytes.removeSubrange(at...)
            case 3:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(16)))
            case 4:
                bytes.insert(contentsOf: (0...random.below(8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
            case 5, 6:
                bytes.insert(contentsOf: dictionary[random.below(dictionary.count)], at: at)
            case 7 where !bytes.isEmpty:
                let start = random.below(bytes.count)
                let piece = bytes[start..<min(bytes.count, start + 1 + random.below(64))]
                bytes.insert(contentsOf: Array(piece), at: at)
            case 8 where !other.isEmpty:
                let start = random.below(other.count)
                bytes.replaceSubrange(at..., with: other[start...])
            case 9:
                let token = dictionary[random.below(dictionary.count)]
                let count = [2, 16, 300, 5_000][random.below(4)]
                bytes.insert(contentsOf: Array([[UInt8]](repeating: token, count: count).joined()), at: at)
            default:
                break
            }
        }
        if bytes.count > maxLength { bytes.removeSubrange(maxLength...) }
        return bytes
    }
}

/// A failing input and the property it broke.
public struct FuzzFinding: Sendable {
    public let input: [UInt8]
    public let failure: FuzzFailure
}

extension FuzzTarget {
    /// Checks every seed, then `iterations` mutants (each from a seed or from the
    /// previous mutant), stopping early when `shouldStop` says so; returns the
    /// first failure, or nil.
    public func fuzz(
        seeds: [[UInt8]], iterations: Int, seed: UInt64, shouldStop: () -> Bool = { false }
    ) -> FuzzFinding? {
        for input in seeds {
            if let failure = check(input) { return FuzzFinding(input: input, failure: failure) }
        }
        let pool = seeds.isEmpty ? [[]] : seeds
        var mutator = Mutator(target: self, seed: seed)
        var previous = pool[0]
        for _ in 0..<iterations {
            if shouldStop() { break }
            let base = mutator.random.below(3) == 0 ? previous : pool[mutator.random.below(pool.count)]
            let input = mutator.mutate(base, other: pool[mutator.random.below(pool.count)])
            if let failure = check(input) { return FuzzFinding(input: input, failure: failure) }
            previous = input
        }
        return nil
    }
}
