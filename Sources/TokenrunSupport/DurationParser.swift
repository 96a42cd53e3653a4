/// Durations as profiles and flags write them: "300s", "5m", "1h", "1h30m", "2d" or whole seconds.
public enum DurationParser {
    public static let expectation = "a duration like \"300s\", \"5m\", \"1h\" or a whole number of seconds"

    /// Seconds, or nil when `text` is not a duration.
    public static func seconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty else { return nil }
        if let whole = Int64(trimmed), whole >= 0 { return whole }
        var total: Int64 = 0
        var number: Int64?
        var sawUnit = false
        for character in trimmed {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (times, o1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(digit))
                if o1 || o2 { return nil }
                number = plus
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            guard let value = number else { return nil }
            let (product, o1) = value.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(product)
            if o1 || o2 { return nil }
            total = sum
            number = nil
            sawUnit = true
        }
        guard sawUnit, number == nil else { return nil }
        return total
    }

    /// "1h30m" style text for a number of seconds.
    public static func format(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var parts: [String] = []
        for (unit, name) in [(Int64(86400), "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            parts.append("\(rest / unit)\(name)")
            rest %= unit
        }
        return parts.joined()
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    package var trimmingSpaces: String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
