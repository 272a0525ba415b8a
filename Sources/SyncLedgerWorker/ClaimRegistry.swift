import Foundation
import SyncLedgerPostgres
import Synchronization

/// What the slots of one engine are doing, and the claims they hold: read by
/// the heartbeat (which claims to renew, each job's progress, the worker's
/// row in the registry of live workers), by the watchdog (a slot whose
/// database stopped answering) and by the metrics.
///
/// Stalled claims: the heartbeat renews only claims that progressed within
/// the stall limit. A slot that is stuck (a hung call, a bug) must not keep
/// its jobs' leases alive forever: its claim is *abandoned* (no longer
/// renewed, and its slot's work on it cancelled, see
/// ``isAbandoned(_:)``), so the slot releases the jobs and claims again;
/// fencing keeps anything still in flight from writing.
///
/// Progress costs no statement of its own: each chunk adds its items here
/// (``progressed(_:items:at:)``, a dictionary update per chunk, nothing per
/// item), and the heartbeat carries the news of every held job in the
/// statement that renews the leases.
final class ClaimRegistry: Sendable {
    /// A claim a slot holds.
    struct Held: Sendable {
        var slot: Int
        var jobs: [Int64]
        var claimedAt: ContinuousClock.Instant
        /// A chunk committed, or a window was loaded.
        var lastProgress: ContinuousClock.Instant
        /// The claim, or the last heartbeat that renewed it.
        var renewedAt: ContinuousClock.Instant
        /// Past the stall limit: not renewed any more, its work cancelled.
        var abandoned = false
        /// Items given a result by this claim, per job.
        var processed: [Int64: Int] = [:]
        /// Per job, once counted: its items, and those with a result before
        /// this claim's items counted (`items_done = base + processed`).
        var counted: [Int64: (total: Int, base: Int)] = [:]
        /// The last progress report: when, and `processed` then.
        var reportedAt: ContinuousClock.Instant
        var reportedProcessed: [Int64: Int] = [:]
    }

    /// A slot: busy with the database since when, and its last answer.
    struct Slot: Sendable {
        var activeSince: ContinuousClock.Instant?
        var lastAnswer: ContinuousClock.Instant
    }

    private struct State {
        var held: [UUID: Held] = [:]
        var slots: [Int: Slot] = [:]
        /// Items processed by this engine, and at the last report.
        var processedTotal = 0
        var reportedTotal = 0
        var reportedAt: ContinuousClock.Instant
    }

    private let state: Mutex<State>

    init(now: ContinuousClock.Instant = .now) { state = Mutex(State(reportedAt: now)) }

    // MARK: - Claims

    func insert(_ claim: Claim, slot: Int = 0, at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.held[claim.token] = Held(slot: slot, jobs: claim.jobIDs, claimedAt: now, lastProgress: now, renewedAt: now, reportedAt: now)
        }
    }

    func remove(_ token: UUID) { _ = state.withLock { $0.held.removeValue(forKey: token) } }

    /// The claim made progress: a chunk committed `items` (per job), or a
    /// window was loaded (no items).
    func progressed(_ token: UUID, items: [Int64: Int] = [:], at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            guard var held = state.held[token] else { return }
            held.lastProgress = now
            for (job, count) in items {
                held.processed[job, default: 0] += count
                state.processedTotal += count
            }
            state.held[token] = held
        }
    }

    var all: [UUID] { state.withLock { Array($0.held.keys) } }
    var count: Int { state.withLock { $0.held.count } }

    /// Whether the claim was abandoned (stalled past the limit).
    func isAbandoned(_ token: UUID) -> Bool { state.withLock { $0.held[token]?.abandoned ?? false } }

    /// Whether the claim's lease has surely expired: not renewed for `lease`.
    func leaseExpired(_ token: UUID, lease: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in state.held[token].map { now - $0.renewedAt > lease } ?? true }
    }

    /// Held claims split into those to renew and those newly abandoned for
    /// making no progress for longer than `limit` (each reported once;
    /// abandoned claims are never renewed again).
    func renewable(now: ContinuousClock.Instant = .now, stallLimit limit: Duration) -> (renew: [UUID], stalled: [UUID]) {
        state.withLock { state in
            var renew: [UUID] = []
            var stalled: [UUID] = []
            for (token, held) in state.held where !held.abandoned {
                if now - held.lastProgress > limit {
                    stalled.append(token)
                    state.held[token]?.abandoned = true
                } else {
                    renew.append(token)
                }
            }
            return (renew.sorted { $0.uuidString < $1.uuidString }, stalled.sorted { $0.uuidString < $1.uuidString })
        }
    }

    /// The heartbeat renewed these claims.
    func renewed(_ tokens: Set<UUID>, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            for token in tokens { state.held[token]?.renewedAt = now }
        }
    }

    // MARK: - Progress

    /// Jobs of claims held since before `cutoff` whose items have not been
    /// counted, each with the items this engine had given a result when
    /// asked (the count then adds the rest).
    func uncountedJobs(claimedBefore cutoff: ContinuousClock.Instant) -> [(job: Int64, processed: Int)] {
        state.withLock { state in
            state.held.values.filter { $0.claimedAt < cutoff && !$0.abandoned }.flatMap { held in
                held.jobs.filter { held.counted[$0] == nil }.map { ($0, held.processed[$0] ?? 0) }
            }.sorted { $0.job < $1.job }
        }
    }

    /// The counts of `job` (`total` items, `pending` of them without a
    /// result), taken when this engine had processed `processedBefore` of them.
    func setCount(job: Int64, total: Int, pending: Int, processedBefore: Int) {
        state.withLock { state in
            for (token, held) in state.held where held.jobs.contains(job) {
                state.held[token]?.counted[job] = (total, max(0, total - pending - processedBefore))
            }
        }
    }

    /// What the heartbeat reports for the claims in `tokens`: each counted
    /// job's items with a result, its total and its rate since the previous
    /// report; and the engine's state for its registry row. Resets the rates'
    /// window.
    func report(for tokens: [UUID], now: ContinuousClock.Instant = .now) -> (progress: [JobProgressReport], engine: EngineLoad) {
        state.withLock { state in
            var progress: [JobProgressReport] = []
            for token in tokens {
                guard var held = state.held[token] else { continue }
                let seconds = max((now - held.reportedAt).seconds, 0.001)
                for job in held.jobs {
                    guard let counted = held.counted[job] else { continue }
                    let processed = held.processed[job] ?? 0
                    let rate = Double(processed - (held.reportedProcessed[job] ?? 0)) / seconds
                    progress.append(
                        JobProgressReport(
                            jobID: job, itemsDone: min(counted.total, counted.base + processed), itemsTotal: counted.total,
                            itemsPerSecond: rate))
                }
                held.reportedAt = now
                held.reportedProcessed = held.processed
                state.held[token] = held
            }
            let seconds = max((now - state.reportedAt).seconds, 0.001)
            let load = EngineLoad(
                busySlots: Set(state.held.values.map(\.slot)).count, jobsHeld: state.held.values.reduce(0) { $0 + $1.jobs.count },
                itemsPerSecond: Double(state.processedTotal - state.reportedTotal) / seconds)
            state.reportedTotal = state.processedTotal
            state.reportedAt = now
            return (progress.sorted { $0.jobID < $1.jobID }, load)
        }
    }

    /// Items left in the held claims whose jobs were counted.
    var itemsRemaining: Int {
        state.withLock { state in
            state.held.values.reduce(0) { sum, held in
                sum + held.counted.reduce(0) { $0 + max(0, $1.value.total - $1.value.base - (held.processed[$1.key] ?? 0)) }
            }
        }
    }

    // MARK: - Slots

    /// The slot starts asking the database (a claim, a claim's work).
    func slotActive(_ slot: Int, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            var current = state.slots[slot] ?? Slot(activeSince: nil, lastAnswer: now)
            if current.activeSince == nil { current.activeSince = now }
            state.slots[slot] = current
        }
    }

    /// The slot waits for work (the doorbell, a backoff): not asking the database.
    func slotIdle(_ slot: Int) { state.withLock { $0.slots[slot]?.activeSince = nil } }

    /// The database answered the slot (a claim, a window, a chunk, a server error).
    func answered(slot: Int, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            var current = state.slots[slot] ?? Slot(activeSince: nil, lastAnswer: now)
            current.lastAnswer = now
            state.slots[slot] = current
        }
    }

    /// The longest time a slot that is asking the database has gone without
    /// an answer, and which slot: what the watchdog compares with its limit,
    /// so that one slot whose connection stopped answering is noticed even
    /// while the other slots' claims are answered.
    func longestSilence(now: ContinuousClock.Instant = .now) -> (slot: Int, silence: Duration)? {
        state.withLock { state in
            state.slots.compactMap { slot, current -> (Int, Duration)? in
                guard let since = current.activeSince else { return nil }
                return (slot, now - max(since, current.lastAnswer))
            }.max { $0.1 < $1.1 }
        }
    }
}

/// The engine's load, for its row in the registry of live workers.
struct EngineLoad: Sendable, Equatable {
    var busySlots: Int
    var jobsHeld: Int
    var itemsPerSecond: Double
}

extension Duration {
    /// In seconds, with the fraction.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
