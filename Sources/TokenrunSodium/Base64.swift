// Base64 as the vault reads it: canonical only. A decoder that ignores the
// unused low bits of the last digit, or accepts missing padding or whitespace,
// lets an altered byte decode to the same value — and then a changed vault
// still opens. libsodium's decoder refuses all of that: non-zero padding bits,
// wrong or missing `=`, any character outside the alphabet.
import CSodium

/// Strict standard base64 (RFC 4648 §4, with padding).
public enum Base64 {
    /// `bytes` in standard base64 with padding (libsodium's encoder: no Foundation on the warm path).
    public static func encode(_ bytes: [UInt8]) -> String {
        let length = sodium_base64_encoded_len(bytes.count, sodium_base64_VARIANT_ORIGINAL)
        var output = [CChar](repeating: 0, count: length)
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { buffer in
                _ = sodium_bin2base64(buffer.baseAddress!, buffer.count, input.baseAddress, input.count, sodium_base64_VARIANT_ORIGINAL)
            }
        }
        // The encoder ends the text with a NUL, which `length` counts.
        return String(decoding: output.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil unless it is the one canonical encoding of them.
    public static func decode(canonical text: String) -> [UInt8]? {
        guard (try? Sodium.ensureInitialized()) != nil else { return nil }
        var text = text
        return text.withUTF8 { input -> [UInt8]? in
            guard input.count % 4 == 0 else { return nil }
            var output = [UInt8](repeating: 0, count: input.count / 4 * 3 + 1)
            var length = 0
            let status = input.withMemoryRebound(to: CChar.self) { chars in
                output.withUnsafeMutableBufferPointer { buffer in
                    sodium_base642bin(
                        buffer.baseAddress!, buffer.count, chars.baseAddress, chars.count, nil, &length, nil,
                        sodium_base64_VARIANT_ORIGINAL)
                }
            }
            guard status == 0 else { return nil }
            output.removeSubrange(length...)
            return output
        }
    }
}
