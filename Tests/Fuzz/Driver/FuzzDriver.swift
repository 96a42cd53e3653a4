// tokenrun-fuzz: runs the fuzz targets of Tests/Fuzz/Targets.
//
//   tokenrun-fuzz check TARGET PATH...      run files (or every file of directories) through TARGET
//   tokenrun-fuzz mutate TARGET [--seconds S] [--iterations N] [--seed N] [PATH...]
//                                           seeded mutations of the corpus (default: the committed
//                                           seeds and regressions); a failing input is saved to
//                                           .build/fuzz/failures/
//   tokenrun-fuzz seeds                     rewrite the generated vault seeds of Tests/Fuzz/corpus/vault
//
// Built with `-sanitize=fuzzer -DTOKENRUN_LIBFUZZER` (see `make fuzz`), the
// same binary is a libFuzzer target instead; TOKENRUN_FUZZ_TARGET names the
// target and libFuzzer's own options apply.
import TokenrunFuzz
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

#if TOKENRUN_LIBFUZZER
    let libFuzzerTarget: FuzzTarget = {
        let name = getenv("TOKENRUN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("set TOKENRUN_FUZZ_TARGET to one of: \(names)")
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        if let failure = libFuzzerTarget.check(bytes) { fatalError("\(failure)") }
        return 0
    }
#else
    @main
    enum FuzzDriver {
        static func main() {
            var arguments = Array(CommandLine.arguments.dropFirst())
            guard !arguments.isEmpty else { usage() }
            let command = arguments.removeFirst()
            switch command {
            case "check": exit(check(arguments))
            case "mutate": exit(mutate(arguments))
            case "seeds": exit(seeds())
            default: usage()
            }
        }

        static func usage() -> Never {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: tokenrun-fuzz check \(names) PATH...")
            print("       tokenrun-fuzz mutate \(names) [--seconds S] [--iterations N] [--seed N] [PATH...]")
            print("       tokenrun-fuzz seeds")
            exit(64)
        }

        static func target(_ arguments: inout [String]) -> FuzzTarget {
            guard !arguments.isEmpty, let target = FuzzTarget(rawValue: arguments.removeFirst()) else { usage() }
            return target
        }

        static func check(_ arguments: [String]) -> Int32 {
            var arguments = arguments
            let target = target(&arguments)
            var failed = 0
            var count = 0
            for path in arguments {
                for file in FuzzCorpus.files(in: path) {
                    count += 1
                    if let failure = target.check(file.bytes) {
                        failed += 1
                        print("FAIL \(file.name): \(failure)")
                    }
                }
            }
            print("\(target.rawValue): \(count) inputs, \(failed) failed")
            return failed == 0 ? 0 : 1
        }

        static func mutate(_ arguments: [String]) -> Int32 {
            var arguments = arguments
            let target = target(&arguments)
            var seconds = 60.0
            var iterations = Int.max
            var seed = UInt64(time(nil))
            var paths: [String] = []
            while !arguments.isEmpty {
                let word = arguments.removeFirst()
                switch word {
                case "--seconds", "--iterations", "--seed":
                    guard let value = arguments.first, let number = Double(value), number >= 0 else { usage() }
                    arguments.removeFirst()
                    if word == "--seconds" {
                        seconds = number
                    } else if word == "--iterations" {
                        iterations = Int(number)
                    } else {
                        seed = UInt64(number)
                    }
                default: paths.append(word)
                }
            }
            if paths.isEmpty { paths = [FuzzCorpus.seedDirectory(target), FuzzCorpus.regressionDirectory(target)] }
            let seeds = paths.flatMap { FuzzCorpus.files(in: $0).map(\.bytes) }
            let start = monotonicSeconds()
            var mutants = 0
            let finding = target.fuzz(seeds: seeds, iterations: iterations, seed: seed) {
                if monotonicSeconds() - start > seconds { return true }
                mutants += 1
                return false
            }
            let elapsed = Int(monotonicSeconds() - start)
            guard let finding else {
                print("\(target.rawValue): \(seeds.count) seeds and \(mutants) mutants in \(elapsed) s (seed \(seed)): no failure")
                return 0
            }
            let directory = ".build/fuzz/failures"
            try? FileSystem.makeDirectories(directory)
            let path = "\(directory)/\(target.rawValue)-\(seed)-\(mutants)"
            try? FileSystem.replaceAtomically(path, bytes: finding.input)
            print("FAIL \(finding.failure)")
            print("the input is in \(path); reproduce: tokenrun-fuzz check \(target.rawValue) \(path)")
            return 1
        }

        /// Vault seeds are made, not written by hand: they must open with the fixed fuzz key.
        static func seeds() -> Int32 {
            let directory = FuzzCorpus.seedDirectory(.vault)
            let credential = Credential(
                profile: "demo", refreshToken: SecretString("rt-seed"), accessToken: SecretString("at-seed"),
                clientSecret: SecretString("cs-seed"), tokenType: "Bearer", scopes: ["api.read", "offline_access"],
                expiresAt: 1_700_003_600, issuedAt: 1_700_000_000, updatedAt: 1_700_000_000)
            var second = credential
            second.profile = "second"
            second.state = .invalid
            second.lastError = "the provider rejected the refresh token (invalid_grant)"
            do {
                try FileSystem.makeDirectories(directory)
                try FileSystem.replaceAtomically(directory + "/empty", bytes: VaultProperties.makeVault([]))
                try FileSystem.replaceAtomically(directory + "/two-records", bytes: VaultProperties.makeVault([credential, second]))
                try FileSystem.replaceAtomically(
                    directory + "/passphrase", bytes: VaultProperties.makeVault([credential], passphrase: "fuzz"))
            } catch {
                print("cannot write the seeds: \(error)")
                return 1
            }
            print("wrote \(directory)/{empty,two-records,passphrase}")
            return 0
        }

        static func monotonicSeconds() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        }
    }
#endif
