/// Counts of a job's items by status.
public struct ItemCounts: Sendable, Equatable {
    public var applied = 0
    public var held = 0
    public var skipped = 0
    public var failed = 0
    public var pending = 0

    public init(applied: Int = 0, held: Int = 0, skipped: Int = 0, failed: Int = 0, pending: Int = 0) {
        self.applied = applied
        self.held = held
        self.skipped = skipped
        self.failed = failed
        self.pending = pending
    }

    public var total: Int { applied + held + skipped + failed + pending }

    public mutating func add(_ status: ItemStatus) {
        switch status {
        case .applied: applied += 1
        case .held: held += 1
        case .skipped: skipped += 1
        case .failed: failed += 1
        case .pending: pending += 1
        }
    }
}
