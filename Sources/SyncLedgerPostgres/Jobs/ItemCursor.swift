/// Where a claim's processing stands: after the item at (`jobIndex`, `seq`,
/// `itemID`), `jobIndex` counting the claim's jobs from 1 (0: before all).
package struct ItemCursor: Sendable, Equatable {
    package var jobIndex: Int32 = 0
    package var seq: Int64 = .min
    package var itemID: Int64 = .min

    package init(jobIndex: Int32 = 0, seq: Int64 = .min, itemID: Int64 = .min) {
        self.jobIndex = jobIndex
        self.seq = seq
        self.itemID = itemID
    }
}
