import Testing

@testable import SyncLedgerCore

/// Splitting a window into groups that can run concurrently.
@Suite("Record partitioner")
struct RecordPartitionerTests {
    static func ref(_ key: String, table: String = "core.person", source: String = "hr") -> RecordRef {
        RecordRef(source: source, table: table, externalKey: key)
    }

    @Test func itemsOfOneRecordStayTogetherInOrder() {
        let items = [[Self.ref("A")], [Self.ref("B")], [Self.ref("A")], [Self.ref("C")], [Self.ref("A")]]
        let groups = RecordPartitioner.partition(items, into: 2)
        let withA = groups.first { $0.contains(0) }!
        #expect(withA.contains(2) && withA.contains(4))
        #expect(groups.allSatisfy { $0 == $0.sorted() })
        #expect(groups.flatMap { $0 }.sorted() == Array(items.indices))
    }

    /// A Link names its related record: resolving may create it, so every item
    /// naming it (with or without a target_id hint) must be in the same group,
    /// or a stub could win the race against the hinted link.
    @Test func aLinkJoinsItsRelatedRecordsGroup() {
        let items = [
            [Self.ref("P-1")],  // the record, sent with a hint
            [Self.ref("ACC-9", table: "core.account"), Self.ref("P-1")],  // Link to it
            [Self.ref("ACC-9", table: "core.account")],
            [Self.ref("P-2")],
        ]
        let groups = RecordPartitioner.partition(items, into: 4)
        let group = groups.first { $0.contains(0) }!
        #expect(group == [0, 1, 2])
        #expect(groups.contains([3]))
    }

    @Test func transitiveLinksMergeComponents() {
        let items = [[Self.ref("A"), Self.ref("B")], [Self.ref("C")], [Self.ref("B"), Self.ref("C")], [Self.ref("D")]]
        let groups = RecordPartitioner.partition(items, into: 3)
        #expect(groups.contains([0, 1, 2]))
        #expect(groups.contains([3]))
    }

    @Test func sameKeyFromAnotherSourceIsAnotherRecord() {
        let items = [[Self.ref("A", source: "hr")], [Self.ref("A", source: "payroll")]]
        #expect(RecordPartitioner.partition(items, into: 2).count == 2)
    }

    @Test func itemsWithoutRecordsAreSpreadAndKept() {
        let items: [[RecordRef]] = [[], [], [], []]
        let groups = RecordPartitioner.partition(items, into: 2)
        #expect(groups.map(\.count) == [2, 2])
    }

    @Test func groupsAreBalancedAndDeterministic() {
        let items = (0..<100).map { [Self.ref("K\($0 % 10)")] }
        let first = RecordPartitioner.partition(items, into: 3)
        #expect(first == RecordPartitioner.partition(items, into: 3))
        #expect(first.count == 3)
        #expect(first.map(\.count).max()! - first.map(\.count).min()! <= 10)
    }

    @Test func oneGroupOrNoneWhenThereIsNothingToSplit() {
        #expect(RecordPartitioner.partition([[Self.ref("A")], [Self.ref("B")]], into: 1) == [[0, 1]])
        #expect(RecordPartitioner.partition([], into: 4).isEmpty)
        #expect(RecordPartitioner.partition([[Self.ref("A")]], into: 4) == [[0]])
    }
}
