import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// The claim no longer holds a job: another claim (of another process, or
/// of this one after its lease expired) has taken it over. Nothing of the
/// chunk was committed.
public struct LeaseLost: Error, CustomStringConvertible {
    public var token: UUID
    public var detail: String
    public var description: String { "lost the lease of claim \(token): \(detail)" }
}

/// The configuration changed since the snapshot the items were prepared
/// against; nothing of the chunk was committed.
struct ConfigurationChanged: Error {}

/// An item as it enters a chunk: as loaded, and prepared or already failed.
struct ChunkEntry: Sendable {
    var item: InboundItem
    var prepared: Result<PreparedItem, ItemFailure>

    /// The records the item names, for partitioning.
    var records: [RecordRef] {
        guard case .success(let item) = prepared else { return [] }
        var refs = [RecordRef(source: item.source, table: item.table, externalKey: item.externalKey)]
        if case .link(_, let relatedTable, let relatedKey?) = item.change {
            refs.append(RecordRef(source: item.source, table: relatedTable, externalKey: relatedKey))
        }
        return refs
    }
}

/// One chunk of a claim's items, processed in one transaction of two
/// statements: `integration.prepare_chunk` (fence, configuration check,
/// crosswalk, target locks, state), the core's decisions, then
/// `integration.apply_chunk` (every write, set-based). See `sql/code/50_aspects.sql`.
struct ChunkTransaction: Sendable {
    var claim: Claim
    var snapshot: ConfigurationSnapshot
    var logger: Logger

    /// Processes `entries` (in order) on `conn`; returns their results by status.
    func run(_ entries: [ChunkEntry], on conn: PostgresConnection) async throws -> ItemCounts {
        var request = Request()
        var failures: [(itemID: Int64, message: String)] = []
        var ready: [PreparedItem] = []
        for entry in entries {
            switch entry.prepared {
            case .failure(let failure): failures.append((entry.item.itemID, failure.description))
            case .success(let item):
                ready.append(item)
                request.add(item)
            }
        }
        let jobs = Array(Set(entries.map(\.item.jobID))).sorted()

        return try await conn.transaction(logger: logger) { conn in
            let state = try await prepare(request, jobs: jobs, on: conn)
            var resolved: [ResolvedItem] = []
            var states: [AspectKey: AspectState] = [:]
            for (n, item) in ready.enumerated() {
                let key = request.keyIndex[request.ownKey(of: item)]!
                if !state.itemError[n].isEmpty {
                    failures.append((item.itemID, Self.castFailure(item, reason: state.itemError[n]).description))
                    continue
                }
                guard state.keyFound[key] || !item.createsRecord else {
                    failures.append(
                        (item.itemID, ItemFailure.identifierConflict(externalKey: item.externalKey, table: item.table, source: item.source).description))
                    continue
                }
                if case .link(_, let relatedTable, let relatedKey?) = item.change,
                    !state.keyFound[request.keyIndex[RecordRef(source: item.source, table: relatedTable, externalKey: relatedKey)]!]
                {
                    failures.append(
                        (item.itemID, ItemFailure.identifierConflict(externalKey: relatedKey, table: relatedTable, source: item.source).description))
                    continue
                }
                let targetID = state.keyFound[key] ? state.keyTarget[key] : nil
                resolved.append(
                    ResolvedItem(
                        item: item, targetID: targetID, value: state.itemValueNull[n] ? nil : state.itemValue[n],
                        equalsLoaded: state.itemSame[n]))
                if let targetID {
                    state.load(item: n, source: item.source, into: &states[AspectKey(table: item.table, targetID: targetID, aspectKey: item.aspectKey), default: AspectState()])
                }
            }
            let creations = request.keys.indices.filter { state.keyCreated[$0] }.map { index in
                RecordCreation(
                    table: request.keys[index].table, targetID: state.keyTarget[index], source: request.keys[index].source,
                    jobID: request.keyJob[index])
            }
            let decision = ChunkGovernor(policies: snapshot.policies).decide(items: resolved, creations: creations, states: states)
            let written = try await apply(decision, failures: failures, jobs: jobs, on: conn)
            let expected = decision.outcomes.count + failures.count
            guard written == expected else {
                // Only possible if the items were not Pending any more: fencing
                // makes that impossible short of a bug; write nothing.
                throw InconsistentChunk(expected: expected, written: written)
            }
            var counts = ItemCounts(failed: failures.count)
            for outcome in decision.outcomes { counts.add(outcome.status) }
            return counts
        }
    }

    /// Fails one item alone with `message`, in a transaction of its own (used
    /// when bisection isolated an item the database refused).
    func fail(itemID: Int64, jobID: Int64, message: String, on conn: PostgresConnection) async throws {
        try await conn.transaction(logger: logger) { conn in
            _ = try await prepare(Request(), jobs: [jobID], on: conn)
            _ = try await apply(ChunkDecision(), failures: [(itemID, message)], jobs: [jobID], on: conn)
        }
    }

    private static func castFailure(_ item: PreparedItem, reason: String) -> ItemFailure {
        switch item.change {
        case .field(let column, let value, _):
            .uncastableValue(value: value ?? "", field: column.name, table: item.table, sqlType: column.sqlType, reason: reason)
        case .link(let column, _, _):
            .uncastableValue(value: "", field: column.name, table: item.table, sqlType: column.sqlType, reason: reason)
        case .delete(let column):
            .uncastableValue(value: RecordAspectValue.inactive, field: column, table: item.table, sqlType: "boolean", reason: reason)
        }
    }

    // MARK: - prepare_chunk

    /// The records and items of a chunk, as `prepare_chunk` takes them.
    struct Request {
        var keys: [RecordRef] = []
        var keyIndex: [RecordRef: Int] = [:]
        var keyHint: [UUID?] = []
        var keyJob: [Int64] = []
        var itemKey: [Int32] = []
        var itemCreates: [Bool] = []
        var itemRelated: [Int32] = []
        var itemColumn: [String] = []
        var itemAspect: [String] = []
        var itemAspectKey: [String] = []
        var itemValue: [String?] = []

        func ownKey(of item: PreparedItem) -> RecordRef {
            RecordRef(source: item.source, table: item.table, externalKey: item.externalKey)
        }

        /// The index of `ref`, adding it; the first hint given for it wins.
        private mutating func key(_ ref: RecordRef, hint: UUID?, job: Int64) -> Int {
            if let index = keyIndex[ref] {
                if keyHint[index] == nil, let hint { keyHint[index] = hint }
                return index
            }
            keyIndex[ref] = keys.count
            keys.append(ref)
            keyHint.append(hint)
            keyJob.append(job)
            return keys.count - 1
        }

        mutating func add(_ item: PreparedItem) {
            let own = key(ownKey(of: item), hint: item.targetIDHint, job: item.jobID)
            var related = -1
            if case .link(_, let relatedTable, let relatedKey?) = item.change {
                related = key(RecordRef(source: item.source, table: relatedTable, externalKey: relatedKey), hint: nil, job: item.jobID)
            }
            itemKey.append(Int32(own + 1))
            itemCreates.append(item.createsRecord)
            itemRelated.append(Int32(related + 1))
            itemColumn.append(item.column)
            itemAspect.append(item.aspect.rawValue)
            itemAspectKey.append(item.aspectKey)
            itemValue.append(item.proposedValue)
        }
    }

    /// What `prepare_chunk` returns, per key and per item of the request.
    struct PreparedState {
        var keyTarget: [UUID]
        var keyFound: [Bool]
        var keyCreated: [Bool]
        var itemValue: [String]
        var itemValueNull: [Bool]
        var itemError: [String]
        var itemCurrent: [String]
        var itemCurrentNull: [Bool]
        var itemSame: [Bool]
        var itemOwner: [Int64]
        var itemOwnerSource: [String]
        var itemOwnerStale: [Bool]
        var itemTimestamp: [Date]
        var itemTimestampNull: [Bool]
        var itemTimestampSubmit: [Int64]
        var itemTimestampSeq: [Int64]
        var itemAnySubmit: [Int64]
        var itemAnySeq: [Int64]
        var itemUntimedSubmit: [Int64]
        var itemUntimedSeq: [Int64]
        var held: [Int: [HeldEntry]]

        /// Fills an aspect's state from item `n` (each item carries its
        /// aspect's current value and owner, and its source's marks and held
        /// entries).
        func load(item n: Int, source: String, into state: inout AspectState) {
            state.currentValue = itemCurrentNull[n] ? nil : itemCurrent[n]
            if itemOwner[n] > 0 {
                state.owner = ValueOwner(source: itemOwnerSource[n], ledgerID: itemOwner[n], isStale: itemOwnerStale[n])
            }
            if state.marks[source] == nil {
                func position(_ submit: Int64, _ seq: Int64) -> SubmissionPosition? {
                    submit == 0 && seq == 0 ? nil : SubmissionPosition(submit: submit, seq: seq)
                }
                state.marks[source] = SourceOrderMarks(
                    latestTimestamp: itemTimestampNull[n] ? nil : itemTimestamp[n],
                    latestTimestampPosition: itemTimestampNull[n] ? nil : position(itemTimestampSubmit[n], itemTimestampSeq[n]),
                    latest: position(itemAnySubmit[n], itemAnySeq[n]),
                    latestWithoutTimestamp: position(itemUntimedSubmit[n], itemUntimedSeq[n]))
                state.held[source] = held[n] ?? []
            }
        }
    }

    private func prepare(_ request: Request, jobs: [Int64], on conn: PostgresConnection) async throws -> PreparedState {
        var binds = PostgresBindings()
        binds.append(claim.token)
        binds.append(jobs)
        binds.append(snapshot.version)
        binds.append(request.keys.map(\.source))
        binds.append(request.keys.map(\.table))
        binds.append(request.keys.map(\.externalKey))
        binds.append(request.keyHint.map { $0 ?? ChunkTransaction.noUUID })
        binds.append(request.keyHint.map { $0 == nil })
        binds.append(request.itemKey)
        binds.append(request.itemCreates)
        binds.append(request.itemRelated)
        binds.append(request.itemColumn)
        binds.append(request.itemAspect)
        binds.append(request.itemAspectKey)
        binds.append(request.itemValue.map { $0 ?? "" })
        binds.append(request.itemValue.map { $0 == nil })
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT * FROM integration.prepare_chunk($1::uuid, $2::int8[], $3::int8, $4::text[], $5::text[], $6::text[],
                  $7::uuid[], $8::bool[], $9::int4[], $10::bool[], $11::int4[], $12::text[], $13::text[], $14::text[],
                  $15::text[], $16::bool[])
                """, binds: binds)
        let rows: [PostgresRow]
        do {
            rows = try await conn.checkedRows(query, logger: logger)
        } catch where PostgresErrors.isLeaseLost(error) {
            throw LeaseLost(token: claim.token, detail: PostgresErrors.message(error))
        } catch where PostgresErrors.isConfigurationChanged(error) {
            throw ConfigurationChanged()
        }
        var state: PreparedState?
        do {
            for row in rows {
                let c = row.makeRandomAccess()
                let heldItem = try c[21].decode([Int32].self)
                let heldLedger = try c[22].decode([Int64].self)
                let heldValue = try c[23].decode([String].self)
                let heldNull = try c[24].decode([Bool].self)
                var held: [Int: [HeldEntry]] = [:]
                for h in heldItem.indices {
                    held[Int(heldItem[h]) - 1, default: []].append(HeldEntry(ledgerID: heldLedger[h], value: heldNull[h] ? nil : heldValue[h]))
                }
                state = PreparedState(
                    keyTarget: try c[1].decode([UUID].self), keyFound: try c[2].decode([Bool].self),
                    keyCreated: try c[3].decode([Bool].self), itemValue: try c[4].decode([String].self),
                    itemValueNull: try c[5].decode([Bool].self), itemError: try c[6].decode([String].self),
                    itemCurrent: try c[7].decode([String].self), itemCurrentNull: try c[8].decode([Bool].self),
                    itemSame: try c[9].decode([Bool].self), itemOwner: try c[10].decode([Int64].self),
                    itemOwnerSource: try c[11].decode([String].self), itemOwnerStale: try c[12].decode([Bool].self),
                    itemTimestamp: try c[13].decode([Date].self), itemTimestampNull: try c[14].decode([Bool].self),
                    itemTimestampSubmit: try c[15].decode([Int64].self), itemTimestampSeq: try c[16].decode([Int64].self),
                    itemAnySubmit: try c[17].decode([Int64].self), itemAnySeq: try c[18].decode([Int64].self),
                    itemUntimedSubmit: try c[19].decode([Int64].self), itemUntimedSeq: try c[20].decode([Int64].self),
                    held: held)
            }
        } catch where PostgresErrors.isLeaseLost(error) {
            throw LeaseLost(token: claim.token, detail: PostgresErrors.message(error))
        } catch where PostgresErrors.isConfigurationChanged(error) {
            throw ConfigurationChanged()
        }
        guard let state else { throw InconsistentChunk(expected: 1, written: 0) }
        return state
    }

    // MARK: - apply_chunk

    static let noUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    static let epoch = Date(timeIntervalSince1970: 0)

    private func apply(_ decision: ChunkDecision, failures: [(itemID: Int64, message: String)], jobs: [Int64], on conn: PostgresConnection)
        async throws -> Int
    {
        var binds = PostgresBindings()
        binds.append(jobs)
        let writes = decision.writes
        binds.append(writes.map(\.table))
        binds.append(writes.map(\.targetID))
        binds.append(writes.map(\.column))
        binds.append(writes.map { $0.value ?? "" })
        binds.append(writes.map { $0.value == nil })
        let ledger = decision.ledger
        binds.append(ledger.map { $0.itemID ?? 0 })
        binds.append(ledger.map(\.jobID))
        binds.append(ledger.map(\.table))
        binds.append(ledger.map(\.targetID))
        binds.append(ledger.map(\.aspect.rawValue))
        binds.append(ledger.map(\.aspectKey))
        binds.append(ledger.map(\.source))
        binds.append(ledger.map(\.status.rawValue))
        binds.append(ledger.map { $0.value ?? "" })
        binds.append(ledger.map { $0.value == nil })
        binds.append(ledger.map { $0.previousValue ?? "" })
        binds.append(ledger.map { $0.previousValue == nil })
        binds.append(ledger.map(\.isApplied))
        binds.append(ledger.map { $0.sourceTimestamp ?? Self.epoch })
        binds.append(ledger.map { $0.sourceTimestamp == nil })
        binds.append(decision.confirmations)
        let marks = decision.marks
        binds.append(marks.map(\.aspect.table))
        binds.append(marks.map(\.aspect.targetID))
        binds.append(marks.map(\.aspect.aspectKey))
        binds.append(marks.map(\.source))
        binds.append(marks.map { $0.marks.latestTimestamp ?? Self.epoch })
        binds.append(marks.map { $0.marks.latestTimestamp == nil })
        binds.append(marks.map { $0.marks.latestTimestampPosition?.submit ?? 0 })
        binds.append(marks.map { $0.marks.latestTimestampPosition?.seq ?? 0 })
        binds.append(marks.map { $0.marks.latest?.submit ?? 0 })
        binds.append(marks.map { $0.marks.latest?.seq ?? 0 })
        binds.append(marks.map { $0.marks.latestWithoutTimestamp?.submit ?? 0 })
        binds.append(marks.map { $0.marks.latestWithoutTimestamp?.seq ?? 0 })
        var resultItem: [Int64] = []
        var resultStatus: [String] = []
        var resultMessage: [String] = []
        var resultTarget: [UUID] = []
        var resultTargetNull: [Bool] = []
        var resultEntry: [Int32] = []
        for outcome in decision.outcomes {
            resultItem.append(outcome.itemID)
            resultStatus.append(outcome.status.rawValue)
            resultMessage.append(outcome.message ?? "")
            resultTarget.append(outcome.targetID ?? Self.noUUID)
            resultTargetNull.append(outcome.targetID == nil)
            resultEntry.append(outcome.ledgerIndex.map { Int32($0 + 1) } ?? 0)
        }
        for (itemID, message) in failures {
            resultItem.append(itemID)
            resultStatus.append(ItemStatus.failed.rawValue)
            resultMessage.append(message)
            resultTarget.append(Self.noUUID)
            resultTargetNull.append(true)
            resultEntry.append(0)
        }
        binds.append(resultItem)
        binds.append(resultStatus)
        binds.append(resultMessage)
        binds.append(resultTarget)
        binds.append(resultTargetNull)
        binds.append(resultEntry)
        let placeholders = [
            "int8[]", "text[]", "uuid[]", "text[]", "text[]", "bool[]",
            "int8[]", "int8[]", "text[]", "uuid[]", "text[]", "text[]", "text[]", "text[]", "text[]", "bool[]", "text[]", "bool[]",
            "bool[]", "timestamptz[]", "bool[]",
            "int8[]",
            "text[]", "uuid[]", "text[]", "text[]", "timestamptz[]", "bool[]", "int8[]", "int8[]", "int8[]", "int8[]", "int8[]", "int8[]",
            "int8[]", "text[]", "text[]", "uuid[]", "bool[]", "int4[]",
        ].enumerated().map { "$\($0.offset + 1)::\($0.element)" }.joined(separator: ", ")
        let rows = try await conn.checkedRows(
            PostgresQuery(unsafeSQL: "SELECT integration.apply_chunk(\(placeholders))", binds: binds), logger: logger)
        return Int(try rows.decoded(Int32.self).first ?? Int32(0))
    }
}

/// A chunk whose items were not all Pending when their results were written.
struct InconsistentChunk: Error, CustomStringConvertible {
    var expected: Int
    var written: Int
    var description: String { "chunk wrote \(written) item results, expected \(expected); rolled back" }
}
