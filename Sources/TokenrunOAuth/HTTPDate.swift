import TokenrunSupport
#if canImport(Glibc)
    import Glibc
#endif

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), as in `Date` and `Retry-After`.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since 1970, or nil when `text` is not an IMF-fixdate.
    public static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int32(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]) else { return nil }
        var fields = tm()
        fields.tm_year = year - 1900
        fields.tm_mon = Int32(monthIndex)
        fields.tm_mday = day
        fields.tm_hour = hour
        fields.tm_min = minute
        fields.tm_sec = second
        let seconds = timegm(&fields)
        return seconds == -1 ? nil : Int64(seconds)
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
public enum RetryAfter {
    public static func seconds(_ text: String, now: Int64 = ProcessEnvironment.now()) -> Int? {
        let trimmed = text.trimmingSpaces
        if let value = Int(trimmed), value >= 0 { return value }
        if let date = HTTPDate.parse(trimmed) { return Int(max(0, date - now)) }
        return nil
    }
}
