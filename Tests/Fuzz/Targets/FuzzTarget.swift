// The fuzz targets: the three readers of hostile bytes (a profile file, the
// vault file, a token endpoint's answer), each run on one input while
// checking properties that must hold for every input. The same checks run
// under libFuzzer (`make fuzz`), under the seeded mutator of Mutator.swift
// (a few seconds in `make test`), and on the committed corpus and the
// regression inputs of Tests/Fuzz/. Only public TokenrunKit API is used.
import TokenrunKit

/// A property one input broke.
public struct FuzzFailure: Error, Sendable, CustomStringConvertible {
    public let target: FuzzTarget
    public let property: String

    public var description: String { "\(target.rawValue): \(property)" }
}

/// One reader of untrusted bytes and the properties it must keep.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `ProfileParser` and the profile store: parse, merge, `profiles show` round trip.
    case profile
    /// The vault file: decoding, unlocking with a fixed key, reading, writing.
    case vault
    /// `TokenEndpoint.interpret`: status, headers and body of a token response.
    case tokenResponse = "token-response"

    /// Runs `bytes` through the target; nil when every property holds.
    public func check(_ bytes: [UInt8]) -> FuzzFailure? {
        var expectations = Expectations()
        switch self {
        case .profile: ProfileProperties.check(bytes, &expectations)
        case .vault: VaultProperties.check(bytes, &expectations)
        case .tokenResponse: TokenResponseProperties.check(bytes, &expectations)
        }
        return expectations.failure.map { FuzzFailure(target: self, property: $0) }
    }

    /// Byte strings the mutator inserts: the syntax and the keys this reader looks for.
    public var dictionary: [[UInt8]] {
        let words: [String]
        switch self {
        case .profile: words = ProfileProperties.dictionary
        case .vault: words = VaultProperties.dictionary
        case .tokenResponse: words = TokenResponseProperties.dictionary
        }
        return words.map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x1B], [0x7F], [0xC2, 0x9B]]
    }
}

/// Collects the first broken property of one run.
struct Expectations {
    private(set) var failure: String?

    mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition && failure == nil { failure = message() }
    }

    /// Text bound for a terminal holds no control character (an escape sequence
    /// or a line break could forge or hide output) and stays a readable length.
    mutating func expectPrintable(_ text: String, _ what: String, limit: Int = 1000) {
        let control = text.unicodeScalars.first { $0.value < 0x20 || $0.value == 0x7F }
        expect(control == nil, "\(what) holds the control character U+\(Self.hex(control?.value ?? 0)): \(text.debugDescription)")
        expect(
            text.count <= limit, "\(what) is \(text.count) characters long, over \(limit): \(String(text.prefix(300)).debugDescription)…")
    }

    /// Every error tokenrun prints: a summary and hints fit for a terminal.
    mutating func expectPrintable(_ error: TokenrunError, _ context: String) {
        expect(!error.summary.isEmpty, "\(context): an error without a summary: \(error)")
        expectPrintable(error.summary, "\(context): the error summary")
        for hint in error.hints { expectPrintable(hint, "\(context): a hint") }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
