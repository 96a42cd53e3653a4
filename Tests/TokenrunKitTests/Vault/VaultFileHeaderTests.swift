import FoundationEssentials
import Testing
@testable import TokenrunSodium
@testable import TokenrunSupport
@testable import TokenrunVault

@Suite("vault file header: the writer and the reader")
struct VaultFileHeaderTests {
    /// A passphrase header: every member set, the Argon2id parameters too.
    static let header = VaultFile.Header(
        keySource: .passphrase, keyID: "a2V5LWlk",
        kdf: KDFParameters(algorithm: "argon2id13", salt: "c2FsdA==", opsLimit: 2, memLimit: 67_108_864),
        wrappedSecretKey: "d3JhcHBlZA==", publicKey: "cHVibGlj", createdAt: 1_700_000_000, records: [])

    @Test("a header with every member set is written with sorted keys, as vaults hold it, and reads back the same")
    func roundTrip() throws {
        let bytes = try VaultFile.serialize(Self.header, macKey: try SecretBytes.random(count: 32))
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "TOKENRUN-VAULT 2")
        let expected =
            #"{"created_at":1700000000,"kdf":{"algorithm":"argon2id13","mem_limit":67108864,"ops_limit":2,"salt":"c2FsdA=="},"#
            + #""key_id":"a2V5LWlk","key_source":"passphrase","public_key":"cHVibGlj","wrapped_secret_key":"d3JhcHBlZA=="}"#
        #expect(lines.count == 3 && String(lines[1]) == expected, "\(lines)")
        #expect(try VaultFile.parse(bytes).header == Self.header)
        var keyFile = Self.header
        keyFile.keySource = .keyFile
        keyFile.kdf = nil
        let written = try VaultFile.serialize(keyFile, macKey: try SecretBytes.random(count: 32))
        #expect(try VaultFile.parse(written).header == keyFile)
    }
}
