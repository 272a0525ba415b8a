import Testing

@testable import SyncLedgerCore

/// A window of a claim's items ends at a record boundary (SPEC §8: a new
/// record is matched on all the values it arrives with).
@Suite("WindowBoundary")
struct WindowBoundaryTests {
    static func items(_ keys: [String]) -> [InboundItem] {
        keys.enumerated().map { Fixtures.item(id: Int64($0.offset + 1), key: $0.element) }
    }

    @Test func aFullWindowLeavesTheLastRecordsItemsToTheNextWindow() {
        let window = Self.items(["A", "A", "B", "B", "B"])
        #expect(WindowBoundary.trimmed(window, full: true).map(\.externalKey) == ["A", "A"])
    }

    @Test func aWindowThatIsNotFullOrIsOneRecordStaysWhole() {
        let window = Self.items(["A", "B", "B"])
        #expect(WindowBoundary.trimmed(window, full: false) == window)
        let one = Self.items(["A", "A", "A"])
        #expect(WindowBoundary.trimmed(one, full: true) == one)
        #expect(WindowBoundary.trimmed([], full: true).isEmpty)
    }

    @Test func theSameKeyInAnotherSourceOrTableIsAnotherRecord() {
        var window = Self.items(["A", "A", "A"])
        window[2].sourceSystem = "crm"
        #expect(WindowBoundary.trimmed(window, full: true).count == 2)
        window[2].sourceSystem = "hr"
        window[2].targetTable = "core.organisation"
        #expect(WindowBoundary.trimmed(window, full: true).count == 2)
    }
}
