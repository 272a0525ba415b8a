import Foundation
import Synchronization

/// The claims this process holds, by fencing token, with when each last made
/// progress.
///
/// The heartbeat renews only claims that progressed within the stall limit: a
/// slot that is stuck (a hung call, a bug) must not keep its jobs' leases alive
/// forever. Their leases then expire and another claim rescues the jobs;
/// fencing keeps the stuck slot from writing anything if it ever wakes up.
final class ClaimRegistry: Sendable {
    private let held = Mutex([UUID: ContinuousClock.Instant]())

    func insert(_ token: UUID, at now: ContinuousClock.Instant = .now) { held.withLock { $0[token] = now } }
    func remove(_ token: UUID) { _ = held.withLock { $0.removeValue(forKey: token) } }
    /// A chunk of the claim committed (or its window was loaded).
    func progressed(_ token: UUID, at now: ContinuousClock.Instant = .now) {
        held.withLock { held in if held[token] != nil { held[token] = now } }
    }
    var all: [UUID] { held.withLock { Array($0.keys) } }
    var count: Int { held.withLock { $0.count } }

    /// Held claims split into those to renew and those stalled for longer than `limit`.
    func renewable(now: ContinuousClock.Instant = .now, stallLimit limit: Duration) -> (renew: [UUID], stalled: [UUID]) {
        held.withLock { held in
            var renew: [UUID] = []
            var stalled: [UUID] = []
            for (token, last) in held {
                if now - last > limit { stalled.append(token) } else { renew.append(token) }
            }
            return (renew.sorted { $0.uuidString < $1.uuidString }, stalled.sorted { $0.uuidString < $1.uuidString })
        }
    }
}
