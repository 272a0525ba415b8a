import Synchronization

/// The jobs this process holds leases on, with when each last made progress.
///
/// The heartbeat renews only jobs that progressed within the stall limit: a
/// slot that is stuck (a hung call, a bug) must not keep its job's lease alive
/// forever. Its lease then expires and another worker rescues the job; fencing
/// keeps the stuck slot from writing anything if it ever wakes up.
final class LeaseRegistry: Sendable {
    private let held = Mutex([Int64: ContinuousClock.Instant]())

    func insert(_ jobID: Int64, at now: ContinuousClock.Instant = .now) { held.withLock { $0[jobID] = now } }
    func remove(_ jobID: Int64) { _ = held.withLock { $0.removeValue(forKey: jobID) } }
    /// A chunk committed (or a window was loaded) for `jobID`.
    func progressed(_ jobID: Int64, at now: ContinuousClock.Instant = .now) {
        held.withLock { held in if held[jobID] != nil { held[jobID] = now } }
    }
    var all: [Int64] { held.withLock { Array($0.keys) } }

    /// Held jobs split into those to renew and those stalled for longer than `limit`.
    func renewable(now: ContinuousClock.Instant = .now, stallLimit limit: Duration) -> (renew: [Int64], stalled: [Int64]) {
        held.withLock { held in
            var renew: [Int64] = []
            var stalled: [Int64] = []
            for (jobID, last) in held {
                if now - last > limit { stalled.append(jobID) } else { renew.append(jobID) }
            }
            return (renew.sorted(), stalled.sorted())
        }
    }
}
