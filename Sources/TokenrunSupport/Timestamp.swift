#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Formatting of epoch seconds for people and for JSON.
public enum Timestamp {
    /// RFC 3339 in UTC: "2026-11-22T03:49:42Z".
    public static func iso8601(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))Z"
    }

    /// "in 53m" / "4m ago" relative to `now`.
    public static func relative(_ seconds: Int64, now: Int64) -> String {
        let delta = seconds - now
        if delta >= 0 { return "in \(DurationParser.format(delta))" }
        return "\(DurationParser.format(-delta)) ago"
    }
}
