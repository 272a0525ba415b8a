import Foundation

/// The README's SQL examples, as tests use them (the example match rules).
package enum ReadmeSQL {
    /// The README's `sql` block whose first line is `-- heading`, whatever
    /// the fence's info string says (`as=ROLE`, `example-only`); `nil` when
    /// there is none.
    package static func block(startingWith heading: String) throws -> String? {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized,
            encoding: .utf8)
        for part in readme.components(separatedBy: "```sql").dropFirst() {
            guard let newline = part.firstIndex(of: "\n") else { continue }
            let block = part[part.index(after: newline)...].components(separatedBy: "```")[0]
            if block.hasPrefix("-- \(heading)\n") { return block }
        }
        return nil
    }
}
