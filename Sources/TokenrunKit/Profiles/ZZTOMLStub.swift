// TEMPORARY stub until the TOML parser lands; deleted then.
public enum TOMLValue: Sendable, Equatable {
    case string(String), integer(Int64), float(Double), boolean(Bool), datetime(String), array([TOMLValue]), table(TOMLTable)
    public var typeName: String { "x" }
}
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable { public let key: String; public var value: TOMLValue; public let line: Int }
    public private(set) var entries: [Entry] = []
    public let line: Int = 1
    public subscript(key: String) -> TOMLValue? { nil }
    public func entry(_ key: String) -> Entry? { nil }
}
public struct TOMLError: Error, Sendable, Equatable { public let line: Int; public let column: Int; public let message: String }
public enum TOMLParser { public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable { throw TOMLError(line: 1, column: 1, message: "stub") } }
