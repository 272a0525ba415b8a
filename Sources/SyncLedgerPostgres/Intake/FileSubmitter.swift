import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Stages a CSV or JSON Lines file as one inbound job (SPEC §7 `submit`): the
/// PostgreSQL shell around ``IntakePipeline``, reading the file as the
/// request's ``IntakeOptions`` say (encoding, delimiter, decimal comma, date
/// order, repeated keys, bad rows).
///
/// Order of work:
/// 1. The mapping is checked against the catalogue (the worker's loader,
///    ``ConfigurationSnapshot/loadCatalog(on:logger:)``), and the file is read
///    until its header has been checked too: an unknown source, an
///    unregistered table, a column that is no field, a missing key column are
///    refused before anything is written.
/// 2. One transaction: the items are streamed with COPY into a temporary
///    table as the file is read (memory stays one chunk, one COPY buffer and
///    one batch of values to check, whatever the file's size) while the
///    content key is hashed; a malformed line anywhere aborts it. Meanwhile,
///    on a second connection, every value that needs it is checked as the
///    worker will check it — cast to its column's type, mapped through its
///    code list (``ValueChecker``) — one round trip per batch of values, one
///    batch in flight while the next is read.
/// 3. Bad values (the file's conventions, the database's checks) and
///    repeated keys are reported together, all of them up to a limit, with
///    their count: with ``BadRows/refuse`` nothing is submitted; with
///    ``BadRows/skip`` the records with a bad value are left out (their lines
///    listed in the receipt). With ``DuplicateKeys/lastWins`` the items of
///    superseded records are dropped.
/// 4. If no job of the source already has the content key, a `Draft` job is
///    inserted, the items move into `sync_item` with one INSERT ... SELECT
///    (plus the `Delete` items of a snapshot), and one UPDATE flips the job
///    to `Submitted`; COMMIT.
///
/// Why one transaction rather than a Draft job committed first and filled
/// over several: the job's key is a hash of the whole file, known only at its
/// end, and an upstream may not change a job's key after inserting it (it
/// may update `job_status` only); and a file killed half-way must leave
/// nothing behind — with one transaction the server rolls everything back
/// when the connection drops, so there is not even a Draft job to clean up.
/// The job is never visible as Draft to anyone. Why a temporary table rather
/// than COPY straight into `sync_item`: COPY FROM refuses tables with
/// row-level security, which `sync_item` has for upstream roles.
///
/// The client must have two connections: the COPY holds one, the checks use
/// the other.
public struct FileSubmitter: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// Bytes read per chunk.
    public var chunkSize = 256 * 1024
    /// COPY data sent per message.
    public var copyBufferSize = 256 * 1024
    /// Values checked per round trip (occurrences; each distinct value is sent once).
    public var checkBatchSize = 50_000

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Submits `input` as `request` says; `progress` is called every
    /// `progressInterval` while reading, and once when storing starts.
    public func submit(
        _ input: IntakeInput, _ request: SubmitRequest, progressInterval: Duration = .milliseconds(200),
        progress: (@Sendable (SubmitProgress) -> Void)? = nil
    ) async throws -> SubmitOutcome {
        do {
            return try await stage(input, request, progressInterval: progressInterval, progress: progress)
        } catch let error as IntakeError {
            throw error.file == nil ? error.in(file: input.name) : error
        } catch let race as DuplicateKey {
            // Another submission of the same content committed first.
            return .alreadySubmitted(jobID: race.jobID, jobKey: race.jobKey)
        } catch let nothing as NothingToSubmit {
            return .nothingToSubmit(records: nothing.records)
        }
    }

    private struct DuplicateKey: Error {
        var jobID: Int64
        var jobKey: String
    }

    private func stage(
        _ input: IntakeInput, _ request: SubmitRequest, progressInterval: Duration, progress: (@Sendable (SubmitProgress) -> Void)?
    ) async throws -> SubmitOutcome {
        let logger = logger
        let catalog = try await client.withConnection { try await ConfigurationSnapshot.loadCatalog(on: $0, logger: logger) }
        let mapping = try request.mapping.resolve(in: catalog)
        let checker = ValueChecker(client: client, source: mapping.source, table: mapping.table.name, logger: logger)
        let plan = ValueCheckPlan(mapping: mapping, codeLists: try await refusingOtherSources(mapping) { try await checker.codeLists() })
        var reading = IntakeReading(
            input: input, pipeline: IntakePipeline(options: request.options, mapping: mapping, markRecords: request.snapshot),
            key: SubmissionKey(mapping: mapping, options: request.options, snapshot: request.snapshot), checks: ValueCheckBatch(plan: plan),
            chunkSize: chunkSize, progressInterval: progressInterval, progress: progress)

        // Everything checkable before the first row: the header.
        while !reading.pipeline.isReady && !reading.finished { try reading.next() }

        let (copyBufferSize, checkBatchSize) = (copyBufferSize, checkBatchSize)
        let outcome: SubmitOutcome
        do {
            outcome = try await client.transaction(logger: logger) { conn -> SubmitOutcome in
                try await conn.run("SET LOCAL TimeZone = 'UTC'", logger: logger)
                try await conn.run(
                    """
                    CREATE TEMPORARY TABLE intake_item (
                      seq bigint, external_key text, operation text, field_name text, new_value text,
                      source_timestamp timestamptz, line bigint
                    ) ON COMMIT DROP
                    """, logger: logger)
                var checked = BadValueReport(limit: request.options.badValueLimit)
                var checkedLines: [Int] = []
                try await withThrowingTaskGroup(of: [BadValue].self) { group in
                    var inFlight = false
                    func note(_ found: [BadValue]) {
                        for bad in found {
                            checked.add(bad)
                            if checkedLines.last != bad.line { checkedLines.append(bad.line) }
                        }
                    }
                    try await conn.copyFrom(table: "intake_item", columns: CopyText.itemColumns, logger: logger) { writer in
                        while true {
                            // Full, or the input has nothing more right now (a
                            // pipe): send what there is, so the server keeps up.
                            if reading.buffer.count >= copyBufferSize || ((reading.finished || reading.drained) && !reading.buffer.isEmpty) {
                                try await writer.write(ByteBuffer(bytes: reading.buffer))
                                reading.buffer.removeAll(keepingCapacity: true)
                            }
                            if reading.finished { break }
                            try reading.next()
                            if reading.checks.count >= checkBatchSize || (reading.finished && !reading.checks.isEmpty) {
                                // One batch in flight while the next is read.
                                if inFlight, let found = try await group.next() { note(found) }
                                let batch = reading.takeChecks()
                                group.addTask { try await checker.check(batch) }
                                inFlight = true
                            }
                            if request.options.onBadRows == .refuse && (!checked.isEmpty || !reading.pipeline.problems.isEmpty)
                                || reading.pipeline.problems.duplicateKeys > 0
                            {
                                reading.copying = false  // refused: read on only to find every bad value
                                reading.buffer.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                    while let found = try await group.next() { note(found) }
                }
                reading.report(force: true, phase: .storing)
                let (removed, skipped) = try await settle(
                    &reading, checked: checked, checkedLines: checkedLines, options: request.options, on: conn)
                return try await finish(reading, removed: removed, skipped: skipped, mapping: mapping, request: request, on: conn)
            }
        } catch {
            switch PostgresErrors.sqlState(error) {
            case .uniqueViolation?:
                // A unique violation on the job key: the same content,
                // submitted meanwhile by someone else.
                if let jobKey = reading.jobKey(request),
                    let (jobID, key) = try await client.withConnection({
                        try await repeatedJob(key: jobKey, explicit: request.jobKey != nil, mapping: mapping, on: $0)
                    })
                {
                    throw DuplicateKey(jobID: jobID, jobKey: key)
                }
            case .insufficientPrivilege?, .crosswalkNotReadable?:
                throw Self.notYourSource(mapping)
            default:
                break
            }
            throw error
        }
        return outcome
    }

    /// Runs `body`, turning a refusal for another source's data into what to do.
    private func refusingOtherSources<T>(_ mapping: ResolvedMapping, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch where PostgresErrors.sqlState(error) == .crosswalkNotReadable || PostgresErrors.sqlState(error) == .insufficientPrivilege {
            throw Self.notYourSource(mapping)
        }
    }

    /// Row-level security, or a check function's refusal: this login does not speak for the source.
    private static func notYourSource(_ mapping: ResolvedMapping) -> IntakeError {
        IntakeError(
            .unknownSource, "this database login may not submit for source system '\(mapping.source)'",
            hint: "submit as the login role registered for it (integration.source_system.login_role), a member of syncledger_upstream")
    }

    /// The whole file is read and checked: refuses it, or leaves out the
    /// records with a bad value (`--on-bad-rows skip`) and the items of
    /// superseded records (`--duplicates last-wins`). Returns the items
    /// removed from the staging table and what was skipped.
    private func settle(
        _ reading: inout IntakeReading, checked: BadValueReport, checkedLines: [Int], options: IntakeOptions, on conn: PostgresConnection
    ) async throws -> (removed: Int, skipped: SkippedRecords?) {
        let report = reading.pipeline.problems.merged(with: checked)
        var skipped: SkippedRecords?
        var skippedLines: Set<Int> = []
        if !report.isEmpty {
            if report.duplicateKeys > 0 || options.onBadRows == .refuse, let error = report.error { throw error }
            let lines = Array(Set(reading.badLines).union(checkedLines)).sorted()
            skippedLines = Set(lines)
            skipped = SkippedRecords(lines: lines, badValues: report)
            reading.key.skipped(lines: lines)
        }
        var removed = 0
        if !skippedLines.isEmpty {
            // A skipped record's marker stays: a snapshot must not delete a
            // record because one of its values was bad.
            removed += try await conn.checkedRows(
                """
                WITH gone AS (
                  DELETE FROM pg_temp.intake_item WHERE line = ANY (\(skippedLines.map { Int64($0) })) AND operation IS NOT NULL
                  RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger
            ).decoded(Int64.self).first.map(Int.init) ?? 0
        }
        // A superseding record that was skipped supersedes nothing.
        let supersessions = reading.supersessions.filter { !skippedLines.contains($0.line) }
        if !supersessions.isEmpty {
            removed += try await conn.checkedRows(
                """
                WITH gone AS (
                  DELETE FROM pg_temp.intake_item s
                   USING unnest(\(supersessions.map(\.externalKey)), \(supersessions.map(\.beforeSeq))) AS d(external_key, before_seq)
                   WHERE s.external_key = d.external_key AND s.seq < d.before_seq AND s.operation IS NOT NULL
                  RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger
            ).decoded(Int64.self).first.map(Int.init) ?? 0
        }
        return (removed, skipped)
    }

    /// After the whole file is staged and settled: the job, its items, the flip.
    private func finish(
        _ reading: IntakeReading, removed: Int, skipped: SkippedRecords?, mapping: ResolvedMapping, request: SubmitRequest,
        on conn: PostgresConnection
    ) async throws -> SubmitOutcome {
        let pipeline = reading.pipeline
        let items = pipeline.items - removed
        if items == 0 && !request.snapshot {
            // Every record had a bad value: nothing left to submit, which is a refusal.
            if let skipped, let error = skipped.badValues.error { throw error }
            return .nothingToSubmit(records: pipeline.records)
        }
        let jobKey: String
        switch try await decideKey(reading, request: request, mapping: mapping, on: conn) {
        case .repeats(let jobID, let key): return .alreadySubmitted(jobID: jobID, jobKey: key)
        case .new(let key): jobKey = key
        }
        if request.snapshot && pipeline.records == 0 && !request.allowEmptySnapshot {
            throw IntakeError(
                .empty,
                "the file has no records: as a snapshot it would delete every record \(mapping.source) has in \(mapping.table.name)",
                hint: "check the export that produced it; pass --allow-empty-snapshot if that is really meant")
        }

        guard
            let jobID = try await conn.checkedRows(
                """
                INSERT INTO integration.sync_job (source_system_key, direction, entity_type, job_status, job_key, priority)
                VALUES (\(mapping.source), 'Inbound', \(mapping.table.name), 'Draft', \(jobKey), \(Int32(clamping: request.priority)))
                RETURNING job_id
                """, logger: logger
            ).decoded(Int64.self).first
        else { throw IntakeError(.badMapping, "the job was not created (is this login allowed to submit for \(mapping.source)?)") }

        try await addStagedItems(to: jobID, source: mapping.source, on: conn)

        var deletes = 0
        if request.snapshot {
            try await conn.run("ANALYZE pg_temp.intake_item", logger: logger)
            let lastSeq = pipeline.unpivot.nextSeq - 1
            deletes = Int(
                try await conn.checkedRows(
                    """
                    WITH inserted AS (
                      INSERT INTO integration.sync_item (job_id, seq, external_key, operation)
                      SELECT \(jobID), \(lastSeq) + row_number() OVER (ORDER BY k.external_key), k.external_key, 'Delete'
                        FROM integration.snapshot_keys(\(mapping.source), \(mapping.table.name)) k
                       WHERE NOT EXISTS (SELECT FROM pg_temp.intake_item s WHERE s.external_key = k.external_key)
                      RETURNING 1)
                    SELECT count(*) FROM inserted
                    """, logger: logger
                ).decoded(Int64.self).first ?? Int64(0))
            if items + deletes == 0 {
                throw NothingToSubmit(records: pipeline.records)
            }
        }

        // The flip: one statement, in the same transaction as everything above.
        try await conn.run(
            "UPDATE integration.sync_job SET job_status = 'Submitted' WHERE job_id = \(jobID) AND job_status = 'Draft'", logger: logger)
        return .submitted(
            SubmitReceipt(
                jobID: jobID, jobKey: jobKey, source: mapping.source, table: mapping.table.name, records: pipeline.records,
                items: items, deletes: deletes, skipped: skipped))
    }

    /// Rolls back a snapshot that turned out to change nothing.
    private struct NothingToSubmit: Error {
        var records: Int
    }

    /// The job of `source` with `jobKey`, if there is one.
    private enum KeyDecision {
        case repeats(jobID: Int64, key: String)
        case new(String)
    }

    /// The job key of this submission, or the job it repeats.
    ///
    /// An explicit `--job-key` is the upstream's own idempotency key: used
    /// again, it is a repeat. A content key (`sha256:H`) repeats only the
    /// source's *latest* job for the table: the same extract sent twice in a
    /// row is a no-op, but content that comes back after a different
    /// submission (A, then B, then A again: a change reverted at the source)
    /// is a new statement and is submitted, as `sha256:H@N` (N: the job it
    /// follows), so the key stays unique per source.
    private func decideKey(_ reading: IntakeReading, request: SubmitRequest, mapping: ResolvedMapping, on conn: PostgresConnection)
        async throws -> KeyDecision
    {
        let key = reading.jobKey(request) ?? ""
        let explicit = request.jobKey != nil
        if explicit {
            return try await repeatedJob(key: key, explicit: true, mapping: mapping, on: conn).map { .repeats(jobID: $0, key: $1) } ?? .new(key)
        }
        let latest = try await latestJob(mapping, on: conn)
        if let (jobID, latestKey) = latest, Self.carries(latestKey, key) { return .repeats(jobID: jobID, key: latestKey ?? key) }
        let taken = try await conn.checkedRows(
            "SELECT EXISTS (SELECT FROM integration.sync_job WHERE source_system_key = \(mapping.source) AND job_key = \(key))",
            logger: logger
        ).decoded(Bool.self).first ?? false
        guard taken, let (latestID, _) = latest else { return .new(key) }
        return .new("\(key)@\(latestID)")
    }

    /// The job a submission with `key` repeats, with that job's key: for an
    /// explicit key, the job with that key; for a content key, the source's
    /// latest inbound job for the table when it carries `key`.
    private func repeatedJob(key: String, explicit: Bool, mapping: ResolvedMapping, on conn: PostgresConnection) async throws
        -> (Int64, String)?
    {
        if explicit {
            return try await conn.checkedRows(
                "SELECT job_id FROM integration.sync_job WHERE source_system_key = \(mapping.source) AND job_key = \(key)", logger: logger
            ).decoded(Int64.self).first.map { ($0, key) }
        }
        guard let (jobID, latestKey) = try await latestJob(mapping, on: conn), Self.carries(latestKey, key), let latestKey else { return nil }
        return (jobID, latestKey)
    }

    /// The source's latest inbound job for the mapping's table, with its key.
    private func latestJob(_ mapping: ResolvedMapping, on conn: PostgresConnection) async throws -> (Int64, String?)? {
        try await conn.checkedRows(
            """
            SELECT job_id, job_key FROM integration.sync_job
             WHERE source_system_key = \(mapping.source) AND direction = 'Inbound' AND entity_type = \(mapping.table.name)
             ORDER BY job_id DESC LIMIT 1
            """, logger: logger
        ).decoded((Int64, String?).self).first
    }

    /// Whether `jobKey` is the content key `key`, as is or followed by `@N`.
    private static func carries(_ jobKey: String?, _ key: String) -> Bool {
        guard let jobKey else { return false }
        return jobKey == key || jobKey.hasPrefix(key + "@")
    }
}

extension FileSubmitter {
    /// Moves the staged items into job `jobID` with one INSERT ... SELECT
    /// (`integration.insert_staged_items`). For the login of the job's source system, when row-level security
    /// applies to it (an upstream's), through `integration.add_staged_items`,
    /// which checks the upstream policy's rule once for the job instead of
    /// once per item (a fifth of the time of a million-record file); it reads
    /// the temporary table as its owner, to whom SELECT on it is granted
    /// first. Any other login inserts as itself, under its own policies.
    func addStagedItems(to jobID: Int64, source: String, on conn: PostgresConnection) async throws {
        let upstream = try await conn.checkedRows(
            "SELECT row_security_active('integration.sync_item') AND pg_has_role('syncledger_upstream', 'USAGE')", logger: logger
        ).decoded(Bool.self).first ?? false
        // Asked only of an upstream: others may not call my_source_systems.
        let ownSource = upstream
            ? try await conn.checkedRows(
                "SELECT \(source) = ANY (integration.my_source_systems())", logger: logger
            ).decoded(Bool.self).first ?? false
            : false
        guard ownSource else {
            try await conn.run("SELECT integration.insert_staged_items(\(jobID))", logger: logger)
            return
        }
        // The owner's name, quoted by the server: the GRANT names nothing else.
        let owner = try await conn.checkedRows(
            """
            SELECT quote_ident(pg_get_userbyid(p.proowner)) FROM pg_catalog.pg_proc p
             WHERE p.oid = 'integration.add_staged_items(bigint,name)'::regprocedure
            """, logger: logger
        ).decoded(String.self).first
        guard let owner else { throw IntakeError(.badMapping, "integration.add_staged_items is missing: run syncledger migrate") }
        try await conn.run(PostgresQuery(unsafeSQL: "GRANT SELECT ON pg_temp.intake_item TO \(owner)"), logger: logger)
        try await conn.run("SELECT integration.add_staged_items(\(jobID), current_user)", logger: logger)
    }
}
