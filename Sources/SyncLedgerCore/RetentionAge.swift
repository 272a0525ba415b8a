import Foundation

/// An age such as `30d`, as `syncledger prune --older-than` and the worker's
/// `--retention` take it: a whole number with a unit — `s` seconds,
/// `m` minutes, `h` hours, `d` days, `w` weeks — or several (`1d12h`).
public struct RetentionAge: Sendable, Equatable, CustomStringConvertible {
    /// The age in seconds (positive).
    public var seconds: Int64

    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// Parses `text`; nil for anything else, and for zero.
    public init?(parsing text: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total: Int64 = 0
        var number: Int64?
        for character in text.trimmingCharacters(in: .whitespaces) {
            if let digit = character.wholeNumberValue, character.isASCII {
                let (times, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                number = next
            } else if let unit = units[character], let value = number {
                let (part, overflow1) = value.multipliedReportingOverflow(by: unit)
                let (sum, overflow2) = total.addingReportingOverflow(part)
                guard !overflow1, !overflow2 else { return nil }
                total = sum
                number = nil
            } else {
                return nil
            }
        }
        guard number == nil, total > 0 else { return nil }
        seconds = total
    }

    /// The largest units that add up to it, e.g. `30d`, `1d12h`, `90s`.
    public var description: String {
        var rest = seconds
        var parts: [String] = []
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            if unit == "w" && rest % size != 0 { continue }  // 10d reads better than 1w3d
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        return parts.joined()
    }
}
