import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SyncLedgerCore

/// Processes one claimed job: loads its pending items a window at a time (in
/// `seq` order), prepares them in the core, splits each window by target record
/// into partitions that run concurrently as separate chunk transactions (one
/// record's items stay in one partition, in order), and finishes the job.
///
/// A rescued job simply continues: only `Pending` items are loaded, and item
/// results commit with their effects, so nothing is done twice.
struct JobProcessor {
    var client: PostgresClient
    var queue: JobQueue
    var job: ClaimedJob
    var settings: WorkerSettings
    var logger: Logger
    /// Called whenever a chunk commits: the heartbeat renews only jobs that progress.
    var progressed: @Sendable () -> Void = {}

    enum Result {
        case finished(JobStatus, ItemCounts)
        /// Graceful shutdown began; the job was not finished.
        case stopped
    }

    func run() async throws -> Result {
        let snapshot = try await client.withConnection { conn in
            try await ConfigurationSnapshot.load(source: job.source, on: conn, logger: logger)
        }
        let preparer = ItemPreparer(
            catalog: snapshot.catalog, policies: snapshot.policies, valueMaps: snapshot.valueMaps,
            maxValueBytes: settings.maxValueBytes)
        let chunk = ChunkTransaction(job: job, workerID: settings.workerID, snapshot: snapshot, logger: logger)

        var cursor: (seq: Int64, itemID: Int64) = (.min, .min)
        while true {
            if Task.isCancelled || Task.isShuttingDownGracefully { return .stopped }
            let items = try await loadPending(after: cursor, limit: settings.chunkSize * settings.parallelChunks)
            guard let last = items.last else { break }
            cursor = (last.seq, last.itemID)
            let entries: [ChunkTransaction.Entry] = items.map { ($0.itemID, preparer.prepare($0)) }
            let partitions = Self.partition(entries, into: settings.parallelChunks, chunkSize: settings.chunkSize)
            try await withThrowingTaskGroup(of: ItemCounts.self) { group in
                for partition in partitions {
                    group.addTask { try await processIsolatingBadItems(partition, chunk: chunk) }
                }
                for try await counts in group {
                    progressed()
                    for status in ItemStatus.allCases { WorkerMetrics.items(status, counts.count(of: status)) }
                }
            }
        }

        let counts = try await queue.counts(of: job.jobID)
        guard let status = JobOutcome.finalStatus(of: counts) else {
            // Items were added behind the cursor (a Draft job being appended to
            // while claimed is a misuse, but lose nothing): go round again.
            return try await run()
        }
        guard try await queue.finish(job.jobID, status: status, counts: counts) else { throw LeaseLost(jobID: job.jobID) }
        return .finished(status, counts)
    }

    /// Runs a chunk; on a data error PostgreSQL raised for some item (a CHECK,
    /// a foreign key, a NOT NULL without default on record creation, ...), splits
    /// the chunk in halves until the item is found, and fails it alone with the
    /// database's reason. Deadlocks and serialization failures are retried.
    private func processIsolatingBadItems(_ entries: [ChunkTransaction.Entry], chunk: ChunkTransaction) async throws -> ItemCounts {
        guard !entries.isEmpty else { return ItemCounts() }
        do {
            return try await withConflictRetry {
                let start = ContinuousClock.now
                defer {
                    WorkerMetrics.chunkDuration.record(duration: ContinuousClock.now - start)
                    progressed()
                }
                return try await client.withConnection { conn in try await chunk.run(entries, on: conn) }
            }
        } catch where PostgresErrors.isDataError(error) {
            if entries.count == 1 {
                let message = ItemFailure.rejectedByDatabase(PostgresErrors.message(error)).description
                try await client.withConnection { conn in try await chunk.fail(itemID: entries[0].itemID, message: message, on: conn) }
                return ItemCounts(failed: 1)
            }
            logger.debug("chunk refused by the database; isolating the item", metadata: ["items": "\(entries.count)"])
            let middle = entries.count / 2
            var counts = try await processIsolatingBadItems(Array(entries[..<middle]), chunk: chunk)
            counts.merge(try await processIsolatingBadItems(Array(entries[middle...]), chunk: chunk))
            return counts
        }
    }

    private func withConflictRetry<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch where PostgresErrors.isRetryableConflict(error) && attempt < 8 {
                attempt += 1
                WorkerMetrics.chunkRetries.increment()
                logger.info("chunk hit a deadlock or serialization failure; retrying", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
            }
        }
    }

    /// Splits a window into at most `count` partitions by target record (table
    /// and external key), keeping order; each partition is one chunk
    /// transaction (about `chunkSize` items; more when one record dominates the
    /// window, since cutting a partition would run one record's items in
    /// parallel). With `count` 1 the window holds `chunkSize` items and is
    /// one chunk.
    static func partition(_ entries: [ChunkTransaction.Entry], into count: Int, chunkSize: Int) -> [[ChunkTransaction.Entry]] {
        guard count > 1 else { return stride(from: 0, to: entries.count, by: chunkSize).map { Array(entries[$0..<min($0 + chunkSize, entries.count)]) } }
        var partitions = Array(repeating: [ChunkTransaction.Entry](), count: count)
        for entry in entries {
            let key: String
            switch entry.prepared {
            case .success(let item): key = item.table + "\u{1}" + item.externalKey
            case .failure: key = String(entry.itemID)
            }
            var hasher = Hasher()
            hasher.combine(key)
            partitions[Int(UInt(bitPattern: hasher.finalize()) % UInt(count))].append(entry)
        }
        return partitions.filter { !$0.isEmpty }
    }

    private func loadPending(after cursor: (seq: Int64, itemID: Int64), limit: Int) async throws -> [InboundItem] {
        let rows = try await client.collect(
            """
            SELECT item_id, seq, coalesce(target_table, \(job.entityType)), external_key, operation, field_name, new_value,
                   source_timestamp, target_id
              FROM integration.sync_item
             WHERE job_id = \(job.jobID) AND item_status = 'Pending' AND (seq, item_id) > (\(cursor.seq), \(cursor.itemID))
             ORDER BY seq, item_id
             LIMIT \(limit)
            """, as: (Int64, Int64, String?, String?, String, String?, String?, Date?, UUID?).self, logger: logger)
        var items: [InboundItem] = []
        for (id, seq, table, key, operation, field, value, timestamp, hint) in rows {
            items.append(
                InboundItem(
                    itemID: id, seq: seq, sourceSystem: job.source, targetTable: table, externalKey: key, operation: operation,
                    fieldName: field, newValue: value, sourceTimestamp: timestamp, targetIDHint: hint))
        }
        return items
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
