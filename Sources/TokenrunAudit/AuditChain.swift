// The hash chain over the audit trail. Each record carries `seq` (1, 2, 3 …,
// carried across rotated files), `prev` (the MAC of the record before it; 64
// zeros when it starts a chain), `key_id`, and, last on its line, `mac`:
// keyed BLAKE2b under the audit key over the 32 bytes of `prev` followed by
// the line up to `,"mac":` closed with `}` — exactly the bytes written, so
// verifying never depends on re-encoding. Appending needs only the record at
// the end of the file: `tail` reads backwards from the end, a few KiB, and
// never the whole file.
import TokenrunSodium
import TokenrunSupport
import FoundationEssentials

/// The rules shared by appending to and verifying the audit trail.
enum AuditChain {
    /// `prev` of the first record of a chain.
    static let genesis = String(repeating: "0", count: 64)
    /// How far back from the end of a file an append looks for the last record before it starts a new chain.
    static let tailLimit = 1 << 20

    /// What the next record links to.
    struct Head: Sendable, Equatable {
        var seq: UInt64
        var mac: String
        var keyID: String
    }

    /// The fields of one line that the chain needs.
    struct Link: Sendable {
        var time: String?
        var event: String?
        var seq: UInt64?
        var prev: String?
        var mac: String?
        var keyID: String?
        var keyChangedFrom: String?

        /// A record of tokenrun's: it has a time and an event.
        var isRecord: Bool { time != nil && event != nil }
        /// Written before chaining: no chain field at all.
        var isUnchained: Bool { seq == nil && prev == nil && mac == nil && keyID == nil && keyChangedFrom == nil }

        /// The head this record makes, when its chain fields are all there.
        var head: Head? {
            guard isRecord, let seq, let mac, let keyID, prev != nil else { return nil }
            return Head(seq: seq, mac: mac, keyID: keyID)
        }
    }

    /// The line's chain fields; nil when it is not a JSON object of the expected types (torn, or not ours).
    static func decode(_ line: ArraySlice<UInt8>) -> Link? {
        guard line.first == UInt8(ascii: "{"), let value = try? JSONReader.parse(line),
            let object = try? JSONObjectReader(value)
        else { return nil }
        typealias Key = AuditRecord.CodingKeys
        func string(_ key: Key) throws(JSONReadError) -> String? { try object.optionalString(key.stringValue) }
        do throws(JSONReadError) {
            return Link(
                time: try string(.time), event: try string(.event), seq: try object.optionalUInt64(Key.seq.stringValue),
                prev: try string(.prev), mac: try string(.mac), keyID: try string(.keyID), keyChangedFrom: try string(.keyChangedFrom))
        } catch {
            return nil
        }
    }

    /// `record` as the line that follows `head` (or starts a chain), with its chain fields and MAC.
    static func seal(_ record: AuditRecord, after head: Head?, key: AuditKey) throws -> (line: [UInt8], head: Head) {
        var chained = record
        chained.seq = (head?.seq ?? 0) + 1
        chained.prev = head?.mac ?? genesis
        chained.keyID = key.id
        chained.keyChangedFrom = head.flatMap { $0.keyID == key.id ? nil : $0.keyID }
        chained.mac = nil
        let mac = Hex.encode(try crypto { try key.mac(previous: Hex.decode(chained.prev!)!, body: chained.jsonBody()) })
        chained.mac = mac
        return (chained.jsonLine(), Head(seq: chained.seq!, mac: mac, keyID: key.id))
    }

    private static let macMember = Array(",\"\(AuditRecord.CodingKeys.mac.stringValue)\":\"".utf8)

    /// The bytes a line's MAC covers and the MAC's text, when the line (without
    /// its newline) ends with `,"mac":"<64 hex digits>"}`.
    static func split(_ line: ArraySlice<UInt8>) -> (body: [UInt8], mac: String)? {
        let suffixLength = macMember.count + 64 + 2
        guard line.count > suffixLength + 1, line.last == UInt8(ascii: "}") else { return nil }
        let start = line.endIndex - suffixLength
        guard line[start..<(start + macMember.count)].elementsEqual(macMember),
            line[line.endIndex - 2] == UInt8(ascii: "\"")
        else { return nil }
        let mac = String(decoding: line[(start + macMember.count)..<(line.endIndex - 2)], as: UTF8.self)
        guard Hex.decode(mac)?.count == 32 else { return nil }
        return (Array(line[line.startIndex..<start]) + [UInt8(ascii: "}")], mac)
    }

    /// Whether `line` carries a MAC that `key` made over its contents and `prev`.
    static func macIsValid(_ line: ArraySlice<UInt8>, prev: String, key: AuditKey) -> Bool {
        guard let (body, mac) = split(line), let previous = Hex.decode(prev), previous.count == 32,
            let expected = try? key.mac(previous: previous, body: body)
        else { return false }
        return Sodium.constantTimeEqual(expected, Hex.decode(mac) ?? [])
    }

    /// The end of a file, as an append sees it.
    struct Tail: Sendable {
        /// The last chained record; nil when the file is empty, its last record is
        /// unchained (written before chaining), or no record was found within the limit.
        var head: Head?
        /// False when the file ends in a torn line (a crash mid-write): the next line must start on a new one.
        var endsWithNewline = true
        var bytesRead = 0
    }

    /// Reads backwards from `size` (through `read(offset, count)`) to the last line that is a
    /// record, passing over torn or foreign lines, and reading at most about `limit` bytes.
    static func tail(size: Int64, limit: Int = tailLimit, read: (_ offset: Int64, _ count: Int) -> [UInt8]?) -> Tail {
        var tail = Tail()
        var position = size
        var pending: [UInt8] = []  // bytes from `position` up to the lines already looked at
        var chunk = 4096
        // A record's verdict: .some(head) ends the search (head nil: unchained), nil passes over the line.
        func verdict(_ line: ArraySlice<UInt8>) -> Head?? {
            guard let link = decode(line), link.isRecord else { return nil }
            if link.isUnchained { return .some(nil) }
            guard let head = link.head else { return nil }
            return .some(head)
        }
        while position > 0 && tail.bytesRead < limit {
            let count = Int(min(Int64(chunk), position))
            position -= Int64(count)
            guard let bytes = read(position, count), bytes.count == count else { break }
            if tail.bytesRead == 0 { tail.endsWithNewline = bytes.last == UInt8(ascii: "\n") }
            tail.bytesRead += count
            chunk = min(chunk * 2, 256 << 10)
            pending = bytes + pending
            var end = pending.count
            while let newline = pending[..<end].lastIndex(of: UInt8(ascii: "\n")) {
                if let found = verdict(pending[(newline + 1)..<end]) {
                    tail.head = found
                    return tail
                }
                end = newline
            }
            pending.removeSubrange(end...)
            if position == 0, let found = verdict(pending[...]) {
                tail.head = found
                return tail
            }
        }
        return tail
    }
}
