/// Quoting of SQL identifiers. Only names already checked against the
/// catalogue reach SQL; quoting them as well means even a strange but real
/// column name (`"Given Name"`) is written correctly.
public enum SQLName {
    /// `name` as a quoted identifier: `"a""b"` for `a"b`.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A registered `schema.table` as a quoted, qualified name.
    public static func qualified(_ table: String) -> String {
        let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.map(quote).joined(separator: ".")
    }
}
