/// PostgreSQL's COPY text format, for staging items: columns separated by
/// tabs, rows ended by a newline, NULL written `\N`, and in values a
/// backslash, tab, newline and carriage return escaped (`\\`, `\t`, `\n`, `\r`).
/// Everything else, any Unicode included, goes through as UTF-8.
public enum CopyText {
    /// The staging table's columns, in the order ``append(_:to:)`` writes them.
    public static let itemColumns = ["seq", "external_key", "operation", "field_name", "new_value", "source_timestamp", "line"]

    /// Appends one row for `item` to `buffer`.
    public static func append(_ item: StagedItem, to buffer: inout [UInt8]) {
        appendNumber(item.seq, to: &buffer)
        buffer.append(tab)
        appendValue(item.externalKey, to: &buffer)
        buffer.append(tab)
        appendValue(item.operation?.rawValue, to: &buffer)
        buffer.append(tab)
        appendValue(item.fieldName, to: &buffer)
        buffer.append(tab)
        appendValue(item.newValue, to: &buffer)
        buffer.append(tab)
        appendValue(item.sourceTimestamp, to: &buffer)
        buffer.append(tab)
        appendNumber(Int64(item.line), to: &buffer)
        buffer.append(newline)
    }

    /// One row of `item`, as text (tests).
    public static func row(_ item: StagedItem) -> String {
        var buffer: [UInt8] = []
        append(item, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")
    private static let backslash = UInt8(ascii: "\\")

    static func appendNumber(_ value: Int64, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: String(value).utf8)
    }

    /// A value, escaped; `nil` as `\N`.
    static func appendValue(_ optional: String?, to buffer: inout [UInt8]) {
        guard var value = optional else {
            buffer.append(backslash)
            buffer.append(UInt8(ascii: "N"))
            return
        }
        value.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let escaped: UInt8
                switch bytes[index] {
                case backslash: escaped = backslash
                case tab: escaped = UInt8(ascii: "t")
                case newline: escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                default: continue
                }
                buffer.append(contentsOf: bytes[start..<index])
                buffer.append(backslash)
                buffer.append(escaped)
                start = index + 1
            }
            buffer.append(contentsOf: bytes[start..<bytes.count])
        }
    }
}
