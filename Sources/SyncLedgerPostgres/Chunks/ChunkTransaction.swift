import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// One chunk of a claim's items, in one transaction of rounds (``RoundPlanner``):
/// each round is `integration.prepare_chunk` (fence, configuration check,
/// crosswalk, target locks, the facts of each item's aspect), the core's
/// decisions (``ChunkGovernor``), then `integration.apply_chunk` (every
/// write, set-based). Records cross the seam, never arrays matched by
/// position: JSON objects in, rows read by column name out. See
/// `sql/code/50_aspects.sql`.
package struct ChunkTransaction: Sendable {
    package var claim: Claim
    package var snapshot: ConfigurationSnapshot
    package var logger: Logger

    package init(claim: Claim, snapshot: ConfigurationSnapshot, logger: Logger) {
        self.claim = claim
        self.snapshot = snapshot
        self.logger = logger
    }

    /// Processes `entries` (in order) on `conn`; returns their results by status.
    package func run(_ entries: [ChunkEntry], on conn: PostgresConnection) async throws -> ItemCounts {
        var failures: [ApplyRecord] = []
        var ready: [PreparedItem] = []
        for entry in entries {
            switch entry.prepared {
            case .failure(let failure):
                failures.append(ApplyRecord(failed: entry.item, failure: failure))
            case .success(let item):
                ready.append(item)
            }
        }
        let jobs = Array(Set(entries.map(\.item.jobID))).sorted()

        return try await conn.transaction(logger: logger) { conn in
            var planner = RoundPlanner(identities: ready.map(\.identity))
            var counts = ItemCounts(failed: failures.count)
            var records = failures
            repeat {
                let round = planner.nextRound()
                var creations: [CreationRecord] = []
                if !round.isEmpty {
                    let rows = try await prepare(round.map { ready[$0] }, jobs: jobs, on: conn)
                    var aspects: [Int: AspectKey] = [:]
                    for (index, row) in zip(round, rows) {
                        if let target = row.targetID {
                            aspects[index] = AspectKey(table: ready[index].table, targetID: target, aspectKey: ready[index].aspectKey)
                        }
                        creations += row.creations(of: ready[index])
                    }
                    let rowOf = Dictionary(uniqueKeysWithValues: zip(round, rows))
                    for index in planner.settle(round, aspects: aspects) {
                        let item = ready[index]
                        let row = rowOf[index]!
                        let decision = ChunkGovernor.decide(item, facts: row.facts)
                        counts.add(decision.verdict.status)
                        records.append(ApplyRecord(item, row: row, decision: decision))
                    }
                }
                if !records.isEmpty || !creations.isEmpty {
                    let written = try await apply(creations: Self.unique(creations), items: records, jobs: jobs, on: conn)
                    guard written == records.count else {
                        // Only possible if the items were not Pending any more: fencing
                        // makes that impossible short of a bug; write nothing.
                        throw InconsistentChunk(expected: records.count, written: written)
                    }
                }
                records = []
            } while !planner.isDone
            return counts
        }
    }

    /// Fails one item alone, in a transaction of its own, because the
    /// database refused its row with `error` (bisection isolated it): the
    /// item's `process_message` names only who refused — the trigger or
    /// constraint — the field and the SQLSTATE, and the full text goes to
    /// `integration.item_refusal` for stewards and operators
    /// (``DatabaseRefusal``). This is the one place where what the database
    /// said about a row becomes an item's message.
    package func refuse(_ item: InboundItem, error: any Error, on conn: PostgresConnection) async throws {
        guard var refusal = DatabaseRefusal(error) else {
            return try await fail(item, failure: .rejectedByDatabase(PostgresErrors.message(error)), on: conn)
        }
        try await refusal.resolve(table: item.targetTable, on: conn, logger: logger)
        let record = ApplyRecord(
            failed: item, failure: .rejectedByDatabase(refusal.upstreamMessage(field: item.fieldName)), refusal: refusal.record)
        try await conn.transaction(logger: logger) { conn in
            _ = try await apply(creations: [], items: [record], jobs: [item.jobID], on: conn)
        }
    }

    /// Fails one item alone with `failure`, in a transaction of its own.
    package func fail(_ item: InboundItem, failure: ItemFailure, on conn: PostgresConnection) async throws {
        try await conn.transaction(logger: logger) { conn in
            _ = try await apply(creations: [], items: [ApplyRecord(failed: item, failure: failure)], jobs: [item.jobID], on: conn)
        }
    }

    /// Each created record once (two items of a round may name one).
    private static func unique(_ creations: [CreationRecord]) -> [CreationRecord] {
        var seen = Set<String>()
        return creations.filter { seen.insert("\($0.table) \($0.targetID)").inserted }
    }

    // MARK: - The statements

    private func prepare(_ items: [PreparedItem], jobs: [Int64], on conn: PostgresConnection) async throws -> [PreparedRow] {
        let json = try ChunkJSON.encode(items.enumerated().map { PrepareRecord(n: $0.offset + 1, item: $0.element) })
        do {
            let rows = try await conn.checkedRows(
                "SELECT * FROM integration.prepare_chunk(\(claim.token), \(jobs)::int8[], \(snapshot.version), \(json)::jsonb)",
                logger: logger)
            let prepared = try rows.map(PreparedRow.init)
            guard prepared.map(\.n) == Array(1...Int32(items.count)) else {
                throw InconsistentChunk(expected: items.count, written: prepared.count)
            }
            return prepared
        } catch where PostgresErrors.isLeaseLost(error) {
            throw LeaseLost(token: claim.token, detail: PostgresErrors.message(error))
        } catch where PostgresErrors.isConfigurationChanged(error) {
            throw ConfigurationChanged()
        }
    }

    private func apply(creations: [CreationRecord], items: [ApplyRecord], jobs: [Int64], on conn: PostgresConnection) async throws -> Int {
        let (creationJSON, itemJSON) = (try ChunkJSON.encode(creations), try ChunkJSON.encode(items))
        do {
            let rows = try await conn.checkedRows(
                "SELECT integration.apply_chunk(\(claim.token), \(jobs)::int8[], \(creationJSON)::jsonb, \(itemJSON)::jsonb)",
                logger: logger)
            return Int(try rows.decoded(Int32.self).first ?? Int32(0))
        } catch where PostgresErrors.isLeaseLost(error) {
            throw LeaseLost(token: claim.token, detail: PostgresErrors.message(error))
        }
    }
}
