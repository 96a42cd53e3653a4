import Foundation
import Testing
@testable import TokenrunSupport

/// Text's search and replace stand in for _StringProcessing's (which the warm binary must not
/// link): they must answer as those do, which these tests ask directly.
@Suite("text search and replace without _StringProcessing")
struct TextTests {
    static let haystacks = [
        "", "a", "abc", "https://user:pw@host/path", "a::b::c", "::a::", "::", ":::", "{{x}} and {{y}}",
        "e\u{301}clair", "café", "x\r\ny", "%s %s", "aaa", "abab", "HTTP 400 (HTTP 400)", "🇫🇷🇫🇷",
    ]
    static let needles = ["", "a", "::", "://", "{{", "}}", "e", "é", "\r\n", "%s", "aa", "ab", "HTTP 400", "🇫🇷", "zz", ":"]

    @Test("firstRange(ofText:) finds what firstRange(of:) finds, in every pair")
    func firstRange() {
        for haystack in Self.haystacks {
            for needle in Self.needles where !needle.isEmpty {
                #expect(haystack.firstRange(ofText: needle) == haystack.firstRange(of: needle), "\(haystack) / \(needle)")
                let sub = haystack.dropFirst()
                #expect(sub.firstRange(ofText: needle) == sub.firstRange(of: needle), "\(sub) / \(needle)")
            }
        }
    }

    @Test("containsText is contains, the empty text included (never found)")
    func contains() {
        for haystack in Self.haystacks {
            for needle in Self.needles {
                #expect(haystack.containsText(needle) == haystack.contains(needle), "\(haystack) / \(needle)")
            }
        }
    }

    @Test("replacingText is replacing(_:with:)")
    func replacing() {
        for haystack in Self.haystacks {
            for needle in Self.needles where !needle.isEmpty {
                for replacement in ["", "***", needle + needle] {
                    #expect(
                        haystack.replacingText(needle, with: replacement) == haystack.replacing(needle, with: replacement),
                        "\(haystack) / \(needle) → \(replacement)")
                }
            }
        }
    }

    @Test("split(onText:) is split(separator:) with a string, with and without empty pieces, and with maxSplits")
    func split() {
        for haystack in Self.haystacks {
            for needle in Self.needles where !needle.isEmpty {
                for omitting in [true, false] {
                    for maxSplits in [0, 1, 2, Int.max] {
                        #expect(
                            haystack.split(onText: needle, maxSplits: maxSplits, omittingEmptySubsequences: omitting)
                                == haystack.split(separator: needle, maxSplits: maxSplits, omittingEmptySubsequences: omitting),
                            "\(haystack) / \(needle) omitting \(omitting) max \(maxSplits)")
                    }
                }
            }
        }
    }
}
