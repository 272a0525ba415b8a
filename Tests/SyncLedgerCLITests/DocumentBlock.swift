import Foundation

/// A fenced code block of a Markdown document, as the documentation's example
/// test reads it (``DocumentationExamplesTests``).
///
/// The fence's info string says how a `sql` or `sh` block runs: after the
/// language, `as=ROLE` names the role it is written for (`owner`, `admin`,
/// `upstream`, `steward`, `worker`, `connector`), or `example-only` marks a
/// block that is not run (the test suite itself, a benchmark of minutes, a
/// restore onto another cluster). GitHub shows only the language.
///
/// ````markdown
/// ```sql as=upstream
/// SELECT job_id, job_status FROM integration.sync_job;
/// ```
/// ````
struct DocumentBlock: Sendable, CustomStringConvertible {
    /// The document, relative to the repository.
    var file: String
    /// The line of the opening fence.
    var line: Int
    /// The info string's first word (`sql`, `sh`, `json`, …; empty when none).
    var language: String
    /// The info string's other words.
    var attributes: [String]
    /// The lines between the fences, without the fence's indentation.
    var body: String

    /// Whether the test runs it: a `sql` or shell block.
    var isExample: Bool { ["sql", "sh", "bash", "shell"].contains(language) }

    var isSQL: Bool { language == "sql" }

    /// The role of `as=ROLE`.
    var role: String? {
        attributes.first { $0.hasPrefix("as=") }.map { String($0.dropFirst(3)) }
    }

    /// Marked `example-only`: not run.
    var isExampleOnly: Bool { attributes.contains("example-only") }

    var description: String { "\(file):\(line)" }

    /// The fenced blocks of `text`, in order.
    static func blocks(in text: String, file: String) -> [DocumentBlock] {
        var blocks: [DocumentBlock] = []
        var open: (line: Int, indent: Int, info: String, fence: String)?
        var body: [String] = []
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let indent = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(indent)
            if let current = open {
                if rest.hasPrefix(current.fence) && rest.trimmingCharacters(in: .whitespaces) == current.fence {
                    let words = current.info.split(separator: " ").map(String.init)
                    blocks.append(
                        DocumentBlock(
                            file: file, line: current.line, language: words.first ?? "", attributes: Array(words.dropFirst()),
                            body: body.joined(separator: "\n") + "\n"))
                    open = nil
                    body = []
                } else {
                    body.append(String(line.dropFirst(min(indent, current.indent))))
                }
            } else if rest.hasPrefix("```") {
                let fence = String(rest.prefix { $0 == "`" })
                open = (index + 1, indent, rest.dropFirst(fence.count).trimmingCharacters(in: .whitespaces), fence)
            }
        }
        return blocks
    }
}
