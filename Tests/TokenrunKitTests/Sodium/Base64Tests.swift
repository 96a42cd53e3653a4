import FoundationEssentials
import Testing
@testable import TokenrunSodium

@Suite("canonical base64")
struct Base64Tests {
    @Test("what Foundation encodes decodes back, for every length up to 70 bytes")
    func roundTrip() throws {
        for length in 0...70 {
            let bytes = try Sodium.randomBytes(length)
            #expect(Base64.decode(canonical: Data(bytes).base64EncodedString()) == bytes)
        }
    }

    @Test("encode gives what Foundation gives, for every length up to 70 bytes")
    func encodeMatchesFoundation() throws {
        for length in 0...70 {
            let bytes = try Sodium.randomBytes(length)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "\(length) bytes")
        }
    }

    @Test(
        "non-zero padding bits, missing or extra padding, whitespace and other alphabets are refused",
        arguments: [
            "AB==", "AAB=", "QUJDRB==", "QUJDREV=", "AA", "AAA", "AA=", "AA===", "AAA==", "=AAA",
            "AA ==", " AA==", "AA==\n", "AA\n==", "A-==", "A_==", "AAAA AAAA", "AA==AA==", "A",
        ])
    func refused(_ text: String) {
        #expect(Base64.decode(canonical: text) == nil, "\(text) was accepted")
    }

    @Test("Foundation's decoder accepts a last digit whose unused bits are set; this one does not")
    func paddingBitsMatter() {
        // "AA==" and "AB==" both decode to one zero byte for a lenient decoder.
        #expect(Base64.decode(canonical: "AA==") == [0])
        #expect(Base64.decode(canonical: "AB==") == nil)
        #expect(Base64.decode(canonical: "") == [])
    }
}
