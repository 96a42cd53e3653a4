// The vault reader accepts only canonical base64, so that no altered byte
// decodes to the value it replaced.
import TestSupport
import Testing

@Suite("end to end: canonical vault encoding")
struct VaultEncodingTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    @Test("a MAC line whose last digit differs only in its unused padding bits is refused: the launch exits 78 and the vault is kept")
    func paddingBitsOfTheMAC() throws {
        let e = try EndToEnd()
        try e.login()
        #expect(e.launch().status == 0)
        var bytes = try #require(readBytes(e.box.vaultPath))
        // "mac <43 digits>=\n": the 43rd digit carries 4 bits of the MAC and 2 unused bits,
        // so the digit after it in the alphabet decodes to the same 32 bytes.
        let last = bytes.count - 3
        #expect(bytes[last + 1] == UInt8(ascii: "="))
        let digit = try #require(Self.alphabet.firstIndex(of: bytes[last]))
        #expect(digit % 4 == 0, "a canonical last digit has zero padding bits")
        bytes[last] = Self.alphabet[digit + 1]
        e.box.write(path: e.box.vaultPath, bytes: bytes)
        let result = e.launch()
        #expect(result.status == 78, "\(result.all)")
        #expect(
            result.stderr.contains(
                "tokenrun: error: the vault \(e.box.vaultPath) is damaged: the authentication line is not 32 bytes of canonical base64"))
        #expect(readBytes(e.box.vaultPath) == bytes)
    }
}
