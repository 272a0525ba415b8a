import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore
import SyncLedgerPostgres

/// Processes one claim (one or many jobs under one fencing token): loads its
/// pending items a window at a time in processing order (job by job in
/// submission order, then `seq`), prepares them in the core, splits each
/// window into groups of items that share no record (``RecordPartitioner``)
/// that run concurrently as separate chunk transactions, and finishes every
/// job of the claim in one statement.
///
/// A rescued job simply continues: only `Pending` items are loaded, and item
/// results commit with their effects, so nothing is done twice.
struct ClaimProcessor {
    var client: PostgresClient
    var store: JobStore
    var claim: Claim
    var settings: WorkerSettings
    var configuration: ConfigurationCache
    var logger: Logger
    /// Called whenever a chunk commits, with its items per job (and with
    /// none when a window was loaded): the heartbeat renews only claims that
    /// progress, and reports each job's items with a result.
    var progressed: @Sendable ([Int64: Int]) -> Void = { _ in }

    enum Outcome {
        case finished([JobResult])
        /// Graceful shutdown began; the claim was not finished.
        case stopped
    }

    func run() async throws -> Outcome {
        var snapshot = try await configuration.current()
        var cursor = ItemCursor()
        var rounds = 0
        while true {
            if Task.isCancelled || Task.isShuttingDownGracefully { return .stopped }
            let limit = settings.chunkSize * settings.parallelChunks
            let loaded = try await store.pendingItems(of: claim, after: cursor, limit: limit)
            let window = WindowBoundary.trimmed(loaded, full: loaded.count >= limit)
            progressed([:])
            if window.isEmpty {
                let results = try await store.finish(claim)
                if results.contains(where: { $0.status == .processing }) && rounds < 3 {
                    // Items were added behind the cursor (a Draft job appended
                    // to while claimed is a misuse, but lose nothing): go round
                    // again. Still unfinished after that, the lease lapses and
                    // the job is rescued.
                    rounds += 1
                    cursor = ItemCursor()
                    continue
                }
                return .finished(results)
            }
            do {
                try await process(window, snapshot: snapshot)
                cursor = store.cursor(after: window, in: claim)
            } catch is ConfigurationChanged {
                snapshot = try await configuration.reload(after: snapshot.version)
                logger.info("configuration changed; reloaded it and redoing the window", metadata: ["version": .int64(snapshot.version)])
            }
        }
    }

    /// Prepares a window and runs its groups concurrently.
    private func process(_ window: [InboundItem], snapshot: ConfigurationSnapshot) async throws {
        let preparer = ItemPreparer(
            catalog: snapshot.catalog, policies: snapshot.policies, valueMaps: snapshot.valueMaps, maxValueBytes: settings.maxValueBytes)
        let entries = window.map { ChunkEntry(item: $0, prepared: preparer.prepare($0)) }
        let groups: [[ChunkEntry]]
        if settings.parallelChunks > 1 {
            groups = RecordPartitioner.partition(entries.map(\.records), into: settings.parallelChunks).map { $0.map { entries[$0] } }
        } else {
            groups = [entries]
        }
        let chunk = ChunkTransaction(claim: claim, snapshot: snapshot, logger: logger)
        try await withThrowingTaskGroup(of: ItemCounts.self) { group in
            for entries in groups {
                group.addTask { try await processIsolatingBadItems(entries, chunk: chunk) }
            }
            for try await counts in group {
                for status in ItemStatus.allCases { WorkerMetrics.items(status, counts.count(of: status)) }
            }
        }
    }

    /// Runs a chunk; when PostgreSQL refuses some item's row (a CHECK, a
    /// foreign key, a trigger's RAISE, ...), splits the chunk in halves until
    /// the item is found, and fails it alone (``ChunkTransaction/refuse(_:error:on:)``:
    /// who refused it, never the row's data). Deadlocks and serialization
    /// failures are retried.
    private func processIsolatingBadItems(_ entries: [ChunkEntry], chunk: ChunkTransaction) async throws -> ItemCounts {
        guard !entries.isEmpty else { return ItemCounts() }
        do {
            return try await withConflictRetry {
                let start = ContinuousClock.now
                let counts = try await QueryDeadline.$limit.withValue(settings.chunkQueryDeadline) {
                    try await client.withOpenConnection { conn in try await chunk.run(entries, on: conn) }
                }
                WorkerMetrics.chunkDuration.record(duration: ContinuousClock.now - start)
                progressed(itemsPerJob(entries))
                return counts
            }
        } catch where PostgresErrors.isAboutARow(error) {
            if entries.count == 1 {
                logger.debug(
                    "the database refused an item",
                    metadata: ["item_id": .int64(entries[0].item.itemID), "error": "\(PostgresErrors.message(error))"])
                try await QueryDeadline.$limit.withValue(settings.chunkQueryDeadline) {
                    try await client.withOpenConnection { conn in try await chunk.refuse(entries[0].item, error: error, on: conn) }
                }
                progressed([entries[0].item.jobID: 1])
                return ItemCounts(failed: 1)
            }
            logger.debug("chunk refused by the database; isolating the item", metadata: ["items": .int(entries.count)])
            let middle = entries.count / 2
            var counts = try await processIsolatingBadItems(Array(entries[..<middle]), chunk: chunk)
            counts.merge(try await processIsolatingBadItems(Array(entries[middle...]), chunk: chunk))
            return counts
        }
    }

    /// A chunk's items per job: one job for a claim of one job (the large
    /// ones), counted in one pass otherwise (small jobs claimed together).
    private func itemsPerJob(_ entries: [ChunkEntry]) -> [Int64: Int] {
        if claim.jobs.count == 1 { return [claim.jobs[0].jobID: entries.count] }
        var counts: [Int64: Int] = [:]
        for entry in entries { counts[entry.item.jobID, default: 0] += 1 }
        return counts
    }

    private func withConflictRetry<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch where PostgresErrors.isRetryableConflict(error) && attempt < 8 {
                attempt += 1
                WorkerMetrics.chunkRetries.increment()
                logger.info(
                    "chunk hit a deadlock, serialization failure or lock timeout; retrying",
                    metadata: ["attempt": .int(attempt), "error": "\(PostgresErrors.message(error))"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            }
        }
    }
}

extension ItemCounts {
    func count(of status: ItemStatus) -> Int {
        switch status {
        case .applied: applied
        case .held: held
        case .skipped: skipped
        case .failed: failed
        case .pending: pending
        }
    }

    mutating func merge(_ other: ItemCounts) {
        applied += other.applied
        held += other.held
        skipped += other.skipped
        failed += other.failed
        pending += other.pending
    }
}
