/// The progress line `syncledger submit` shows on a terminal while it reads:
/// records read, items staged, the rate, and — when the file's size is
/// known — how far it is and the time left.
public enum IntakeProgress {
    /// While reading, e.g. `12,345 records · 61,725 items · 48,210 items/s · 37% · ETA 0:04`
    /// (the rate and time left of reading and streaming; storing follows).
    /// `elapsed` in seconds; `totalBytes` nil for standard input.
    public static func line(records: Int, items: Int, bytesRead: Int64, totalBytes: Int64?, elapsed: Double) -> String {
        var parts = ["\(grouped(records)) records", "\(grouped(items)) items"]
        if elapsed > 0 { parts.append("\(grouped(Int((Double(items) / elapsed).rounded()))) items/s") }
        if let totalBytes, totalBytes > 0 {
            let fraction = min(Double(bytesRead) / Double(totalBytes), 1)
            parts.append("\(Int((fraction * 100).rounded(.down)))%")
            if fraction > 0, elapsed > 0 {
                parts.append("ETA \(clock(elapsed / fraction - elapsed))")
            }
        }
        return parts.joined(separator: " · ")
    }

    /// While the items move into the job, after the whole file was read:
    /// e.g. `100,000 records read · storing 500,000 items in the job …`.
    public static func storing(records: Int, items: Int) -> String {
        "\(grouped(records)) records read · storing \(grouped(items)) items in the job …"
    }

    /// The last line: e.g. `100,000 records · 500,000 items in 4.1 s · 121,951 items/s`.
    public static func done(records: Int, items: Int, elapsed: Double) -> String {
        var line = "\(grouped(records)) records · \(grouped(items)) items in \(seconds(elapsed))"
        if elapsed > 0 { line += " · \(grouped(Int((Double(items) / elapsed).rounded()))) items/s" }
        return line
    }

    /// `4.1 s`, or `m:ss` from a minute.
    public static func seconds(_ value: Double) -> String {
        if value >= 60 { return clock(value) }
        return "\((value * 10).rounded() / 10) s"
    }

    /// `1234567` as `1,234,567`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// Seconds as `m:ss`, or `h:mm:ss` from an hour.
    public static func clock(_ seconds: Double) -> String {
        let total = max(Int(seconds.rounded()), 0)
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(secs))" : "\(minutes):\(two(secs))"
    }
}
