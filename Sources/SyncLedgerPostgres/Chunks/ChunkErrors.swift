import Foundation

/// The claim no longer holds a job: another claim (of another process, or
/// of this one after its lease expired) has taken it over. Nothing of the
/// chunk was committed.
package struct LeaseLost: Error, CustomStringConvertible {
    package var token: UUID
    package var detail: String
    package var description: String { "lost the lease of claim \(token): \(detail)" }
}

/// The configuration changed since the snapshot the items were prepared
/// against; nothing of the chunk was committed.
package struct ConfigurationChanged: Error {}

/// A chunk whose items were not all Pending when their results were written.
struct InconsistentChunk: Error, CustomStringConvertible {
    var expected: Int
    var written: Int
    var description: String { "chunk wrote \(written) item results, expected \(expected); rolled back" }
}
