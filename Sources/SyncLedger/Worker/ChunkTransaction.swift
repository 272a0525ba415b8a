import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// The worker no longer holds the job's lease: another worker rescued it.
/// Nothing of the chunk was committed.
public struct LeaseLost: Error, CustomStringConvertible {
    public var jobID: Int64
    public var description: String { "lost the lease on job \(jobID); another worker has taken it over" }
}

/// One chunk of a job's items, processed in one transaction: fence, resolve,
/// load state, ask the core, write. A few statements for hundreds of items.
struct ChunkTransaction {
    var job: ClaimedJob
    var workerID: String
    var snapshot: ConfigurationSnapshot
    var logger: Logger

    /// An item as it enters the chunk: prepared, or already failed.
    typealias Entry = (itemID: Int64, prepared: Result<PreparedItem, ItemFailure>)

    /// Processes `entries` (in order) on `conn`; returns the items' results by status.
    func run(_ entries: [Entry], on conn: PostgresConnection) async throws -> ItemCounts {
        // Cast check first, outside the transaction: it reads nothing that changes.
        let prepared = entries.compactMap { try? $0.prepared.get() }
        let checked = try await CastChecker(logger: logger).check(prepared, on: conn)
        var checkedByID: [Int64: Result<PreparedItem, ItemFailure>] = [:]
        for (item, result) in zip(prepared, checked) { checkedByID[item.itemID] = result }

        var failures: [(Int64, String)] = []
        var ready: [PreparedItem] = []
        for entry in entries {
            switch entry.prepared {
            case .failure(let failure): failures.append((entry.itemID, failure.description))
            case .success:
                switch checkedByID[entry.itemID]! {
                case .success(let item): ready.append(item)
                case .failure(let failure): failures.append((entry.itemID, failure.description))
                }
            }
        }

        return try await conn.transaction(logger: logger) { conn in
            let now = try await fence(on: conn)

            // Resolve records through the crosswalk.
            var lookups = Set<RecordResolver.Key>()
            var creates: [RecordResolver.Key: UUID?] = [:]
            for item in ready {
                let own = RecordResolver.Key(table: item.table, externalKey: item.externalKey)
                if item.createsRecord {
                    if creates[own] == nil || creates[own]! == nil { creates[own] = .some(item.targetIDHint) }
                } else {
                    lookups.insert(own)
                }
                if case .link(_, let relatedTable, let relatedKey?) = item.change {
                    let related = RecordResolver.Key(table: relatedTable, externalKey: relatedKey)
                    if creates[related] == nil { creates[related] = .some(nil) }
                }
            }
            let resolver = RecordResolver(source: job.source, catalog: snapshot.catalog, logger: logger)
            let resolution = try await resolver.resolve(lookups: lookups, creates: creates, on: conn)

            var resolved: [ResolvedItem] = []
            var aspects = Set<AspectKey>()
            var columnsOf: [AspectKey: String] = [:]
            var chunkFailures = failures
            for item in ready {
                let own = RecordResolver.Key(table: item.table, externalKey: item.externalKey)
                if resolution.conflicts.contains(own) {
                    chunkFailures.append(
                        (item.itemID, ItemFailure.identifierConflict(externalKey: item.externalKey, table: item.table, source: item.source).description))
                    continue
                }
                var relatedID: UUID?
                if case .link(_, let relatedTable, let relatedKey?) = item.change {
                    let related = RecordResolver.Key(table: relatedTable, externalKey: relatedKey)
                    guard let id = resolution.targets[related] else {
                        chunkFailures.append(
                            (item.itemID, ItemFailure.identifierConflict(externalKey: relatedKey, table: relatedTable, source: item.source).description))
                        continue
                    }
                    relatedID = id
                }
                let targetID = resolution.targets[own]
                resolved.append(ResolvedItem(item: item, targetID: targetID, relatedID: relatedID))
                if let targetID {
                    let key = AspectKey(table: item.table, targetID: targetID, aspectKey: item.aspectKey)
                    aspects.insert(key)
                    switch item.change {
                    case .field(let column, _, _), .link(let column, _, _): columnsOf[key] = column.name
                    case .delete(let activeColumn): columnsOf[key] = activeColumn
                    }
                }
            }

            let states = try await AspectStateLoader(source: job.source, catalog: snapshot.catalog, logger: logger)
                .load(aspects, columnsOf: columnsOf, on: conn)
            let decision = ChunkGovernor(policies: snapshot.policies, now: now)
                .decide(items: resolved, creations: resolution.creations, states: states)

            let writer = ChunkWriter(jobID: job.jobID, source: job.source, catalog: snapshot.catalog, logger: logger)
            try await writer.writeTargets(decision.writes, on: conn)
            let applied = try await writer.writeResults(decision, failures: chunkFailures, on: conn)
            if !applied.isEmpty {
                try await conn.run("SELECT integration.enqueue_outbound(\(applied)::int8[])", logger: logger)
            }

            var counts = ItemCounts(failed: chunkFailures.count)
            for result in decision.outcomes { counts.add(result.status) }
            return counts
        }
    }

    /// Fails one item alone, in its own transaction, with the database's reason
    /// (used when bisection isolated an item the database refused).
    func fail(itemID: Int64, message: String, on conn: PostgresConnection) async throws {
        try await conn.transaction(logger: logger) { conn in
            _ = try await fence(on: conn)
            try await conn.run(
                """
                UPDATE integration.sync_item SET item_status = 'Failed', process_message = \(message), applied_at = NULL
                 WHERE item_id = \(itemID) AND item_status = 'Pending'
                """, logger: logger)
        }
    }

    /// Verifies this worker still holds the lease and keeps it from being taken
    /// over until the transaction ends (`FOR SHARE` on the job row conflicts with
    /// a rescuer's UPDATE). Returns the transaction's clock.
    private func fence(on conn: PostgresConnection) async throws -> Date {
        let rows = try await conn.checkedQuery(
            """
            SELECT now(), set_config('integration.ledger_writer', 'worker', true)
              FROM integration.sync_job
             WHERE job_id = \(job.jobID) AND lease_owner = \(workerID) AND job_status = 'Processing'
               FOR SHARE
            """, logger: logger)
        guard let (now, _) = try await rows.single((Date, String).self) else { throw LeaseLost(jobID: job.jobID) }
        return now
    }
}
