import Foundation
import Testing

@testable import SyncLedgerCore

/// "Newer" within a source (SPEC §2, Out of order), kept as marks.
@Suite("Source order marks")
struct SourceOrderTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static func at(_ submit: Int64, _ seq: Int64) -> SubmissionPosition { SubmissionPosition(submit: submit, seq: seq) }

    @Test func positionsOrderByJobThenSeq() {
        #expect(Self.at(1, 9) < Self.at(2, 1))
        #expect(Self.at(2, 1) < Self.at(2, 2))
        #expect(!(Self.at(2, 2) < Self.at(2, 2)))
    }

    @Test func recordingKeepsTheMaxima() {
        var marks = SourceOrderMarks()
        #expect(marks.isEmpty)
        marks.record(timestamp: Self.t0, at: Self.at(5, 1))
        marks.record(timestamp: Self.t0 - 10, at: Self.at(6, 1))  // older timestamp, later submission
        marks.record(timestamp: nil, at: Self.at(4, 1))
        #expect(marks.latestTimestamp == Self.t0)
        #expect(marks.latestTimestampPosition == Self.at(5, 1))
        #expect(marks.latest == Self.at(6, 1))
        #expect(marks.latestWithoutTimestamp == Self.at(4, 1))

        // An equal timestamp from a later position moves the tie-break position.
        marks.record(timestamp: Self.t0, at: Self.at(7, 2))
        #expect(marks.latestTimestampPosition == Self.at(7, 2))
        // ... an earlier position with it does not.
        marks.record(timestamp: Self.t0, at: Self.at(3, 1))
        #expect(marks.latestTimestampPosition == Self.at(7, 2))
    }

    /// Property: for every pair of statements, whichever is recorded first,
    /// exactly one of them ends up "not older" — the final answer never
    /// depends on the order the statements were processed in.
    @Test("the later of two statements wins in either processing order")
    func processingOrderDoesNotMatter() {
        let statements: [(Date?, SubmissionPosition)] = [
            (nil, Self.at(1, 1)), (nil, Self.at(1, 2)), (nil, Self.at(2, 1)),
            (Self.t0, Self.at(1, 1)), (Self.t0, Self.at(2, 1)), (Self.t0 + 1, Self.at(1, 2)), (Self.t0 - 1, Self.at(3, 1)),
        ]
        for (i, a) in statements.enumerated() {
            for (j, b) in statements.enumerated() where i != j && a.1 != b.1 {
                // a first, then b
                var marks = SourceOrderMarks()
                marks.record(timestamp: a.0, at: a.1)
                let bSkipped = marks.newer(than: b.0, at: b.1) != nil
                // b first, then a
                var reverse = SourceOrderMarks()
                reverse.record(timestamp: b.0, at: b.1)
                let aSkipped = reverse.newer(than: a.0, at: a.1) != nil
                // Exactly one of them is older than the other.
                #expect(aSkipped != bSkipped, "statements \(a) and \(b)")
            }
        }
    }

    @Test func newerStatementsDescribeThemselves() {
        #expect(NewerStatement.position(Self.at(4, 2)).description == "a later submission (submission 4, seq 2)")
        #expect(NewerStatement.timestamp(Self.t0).description.hasPrefix("a later source_timestamp (2023-11-14T"))
    }
}
