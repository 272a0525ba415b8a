import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

struct StewardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steward",
        abstract: "Review, certify, reject and revoke ledger entries, and show a record's history.",
        discussion: """
            Each action calls the SQL function of the same name in the integration schema (one transaction each), \
            so the CLI and SQL behave alike. The steward recorded as the actor is --as NAME, or else the database \
            role you connect as (current_user); it must be an active steward in integration.app_user.

            Output: aligned tables for a terminal (long values cut with …; --wide shows all columns, whole). \
            With --json: JSON Lines, one JSON object per line (per queue entry, per history ledger entry with its \
            events nested, or one object for an action's result); integers and booleans are JSON numbers and \
            booleans, NULL is null, times are ISO 8601 UTC.

            A refusal (entry not found, wrong status, unknown or inactive user, not a steward, conflict) prints the \
            database's message on stderr and exits 1. A database that cannot be used exits 69 (unreachable) or 78 \
            (password, TLS, database name, schema), naming the cause.

            Examples:
              syncledger steward queue --table core.person --reason authority
              syncledger steward certify 42 --notes "checked with HR"
              syncledger steward certify 43 --force --notes "seen the contract"
              syncledger steward certify --table core.person --field email --applied --dry-run
              syncledger steward certify --table core.person --field email --applied --notes "HR extract checked"
              syncledger steward reject 44 --reason wrong_value --notes "payroll spelling is wrong"
              syncledger steward revoke 45 --notes "certified by mistake"
              syncledger steward revoke --batch 7 --notes "wrong extract"
              syncledger steward history --source hr --key E100 --field email --json
              syncledger steward asof core.person --key hr:E100 --at "2026-11-01 12:00+01"
              syncledger steward explain core.person --key hr:E100 --field family_name
              syncledger steward propose core.person --key hr:E100 --field email --value a@example.org
              syncledger steward help certify
            """,
        subcommands: [
            Queue.self, Certify.self, Reject.self, Revoke.self, History.self, AsOf.self, Explain.self, Propose.self,
            Suspects.self, Merge.self, Unmerge.self, Dismiss.self,
            GroupHelp<StewardCommand>.self,
        ])

    /// Options every steward subcommand takes.
    struct Common: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Print JSON Lines (one JSON object per line) instead of tables.")
        var json = false

        @Flag(help: "Tables: show every column, values whole.")
        var wide = false

        func validate() throws { _ = try connection.requiredURL() }
    }

    /// Options of certify, reject and revoke.
    struct ActionOptions: ParsableArguments {
        @Argument(help: "The ledger entry (ledger_id, as shown by `steward queue` or `steward history`).")
        var ledgerID: Int64?

        @Option(name: .customLong("as"), help: ArgumentHelp("Act as this steward (app_user.user_name); default: the database role's own app_user.", valueName: "steward"))
        var steward: String?

        @Option(help: "Why; recorded in the ledger event.")
        var notes: String?
    }

    /// Which pending entries: the queue's filter (integration.queue_filter).
    struct FilterOptions: ParsableArguments {
        @Option(help: "Only this target table, e.g. core.person.")
        var table: String?

        @Option(help: "Only this field (or 'record' for the record itself).")
        var field: String?

        @Option(help: "Only entries from this source system.")
        var source: String?

        @Option(help: "Only entries waiting for this reason: on_certify, authority, confidence, not_auto_certified, proposal.")
        var reason: String?

        @Flag(help: "Only held entries (not applied: awaiting a decision).")
        var held = false

        @Flag(help: "Only applied entries (awaiting certification).")
        var applied = false

        @Option(help: ArgumentHelp("Only entries recorded longer ago than this, e.g. '2 days' or '36 hours'.", valueName: "interval"))
        var olderThan: String?

        func validate() throws {
            if held && applied { throw ValidationError("--held and --applied exclude each other; give one, or neither for both") }
        }

        func filter(limit: Int = 50) -> StewardQueries.QueueFilter {
            StewardQueries.QueueFilter(
                table: table, source: source, field: field, reason: reason,
                state: held ? .held : applied ? .applied : nil, olderThan: olderThan, limit: limit)
        }
    }

    /// Options of a bulk decision.
    struct BulkOptions: ParsableArguments {
        @Flag(help: "Print how many entries the filter matches, per reason, and a sample; change nothing.")
        var dryRun = false

        @Option(help: "Entries decided per transaction.")
        var chunk = 5000

        @Option(help: "Parts decided at once, on as many connections (records are split between them).")
        var parts = 2

        func validate() throws {
            guard chunk > 0 else { throw ValidationError("--chunk must be a positive integer, got \(chunk)") }
            guard (1...16).contains(parts) else { throw ValidationError("--parts must be 1 to 16, got \(parts)") }
        }
    }

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List pending ledger entries, oldest first, with why each waits (integration.review_queue).",
            discussion: """
                state = held: not applied, waiting for a decision; applied: in the target, waiting for certification. \
                reason says why (on_certify, authority, confidence, not_auto_certified, proposal). conflict = yes means \
                the target changed since the entry was recorded: certify needs --force. Records show as their external \
                keys (SOURCE:KEY), and so do related records. Counts per state and reason follow the table (on stderr \
                with --json).
                """)

        @OptionGroup var common: Common
        @OptionGroup var filters: FilterOptions

        @Option(help: "At most this many entries.")
        var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be a positive integer, got \(limit)") }
        }

        func run() async throws {
            let filter = filters.filter(limit: limit)
            let json = common.json
            let wide = common.wide
            try await StewardCommand.withQueries(common.connection, name: "queue") { queries in
                let queue = try await queries.queue(filter)
                if json {
                    if !queue.entries.rows.isEmpty { Console.print(queue.entries.jsonLines()) }
                    StewardCommand.note(StewardFormat.queueCounts(queue))
                } else {
                    Console.print(StewardFormat.queueTable(queue, wide: wide))
                    Console.print(StewardFormat.queueCounts(queue))
                }
            }
        }
    }

    struct Certify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Certify a pending entry, or every entry a filter matches: Pending → Certified; held values are applied.",
            discussion: """
                If the target changed since the entry was recorded, certify refuses (a conflict) unless --force. \
                Other pending entries for the same field stay pending. Under four eyes (the field's \
                commit_policy.approvals_required = 2) the first steward's certify records an approval; a second, \
                different steward certifies.

                With filters instead of an id, every matching entry is certified as one decision batch, a chunk per \
                transaction; entries in conflict are passed over (force is for one entry at a time). Run it with \
                --dry-run first. It prints `batch N: M entries certified`; `steward revoke --batch N` undoes it.
                """)

        @OptionGroup var action: ActionOptions
        @OptionGroup var filters: FilterOptions
        @OptionGroup var bulk: BulkOptions
        @Flag(help: "Apply the value even though the target changed since the entry was recorded (one entry only).")
        var force = false
        @OptionGroup var common: Common

        func validate() throws {
            try StewardCommand.validateTarget(action.ledgerID, filters, bulk)
            if force && action.ledgerID == nil { throw ValidationError("--force applies to one entry: name its ledger id") }
        }

        func run() async throws {
            let (steward, notes, force) = (action.steward, action.notes, force)
            if let id = action.ledgerID {
                try await StewardCommand.act(common) { try await $0.certify(id, as: steward, notes: notes, force: force) }
            } else {
                try await StewardCommand.bulk(.certify, filters, bulk, common, steward: steward, notes: notes, reason: nil)
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a pending entry, or every entry a filter matches: Pending → Rejected; applied values are rolled back.",
            discussion: """
                The previous value is restored only if the target still holds the rejected value; otherwise the \
                target is left alone and the result says so. --reason gives a code of integration.reject_reason \
                (wrong_value, wrong_record, not_authoritative, duplicate, other, or one an administrator added): \
                the upstream that sent the value reads it, with the notes, in integration.my_decisions.

                With filters instead of an id, every matching entry is rejected as one decision batch (--dry-run first).
                """)

        @OptionGroup var action: ActionOptions
        @OptionGroup var filters: FilterOptions
        @OptionGroup var bulk: BulkOptions
        @Option(name: .customLong("reason-code"), help: ArgumentHelp("Why, as a code of integration.reject_reason.", valueName: "code"))
        var reasonCode: String?
        @OptionGroup var common: Common

        func validate() throws { try StewardCommand.validateTarget(action.ledgerID, filters, bulk) }

        func run() async throws {
            let (steward, notes, reason) = (action.steward, action.notes, reasonCode)
            if let id = action.ledgerID {
                try await StewardCommand.act(common) { try await $0.reject(id, as: steward, notes: notes, reason: reason) }
            } else {
                try await StewardCommand.bulk(.reject, filters, bulk, common, steward: steward, notes: notes, reason: reason)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a certification, or a whole certify batch: Certified → Revoked; earlier values come back.",
            discussion: """
                The target returns to the latest earlier certified value of the field (NULL when there is none), \
                if it still holds the revoked value; otherwise it is left alone and the result says so. \
                --batch N revokes what certify batch N certified (entries still Certified), as a batch of its own.
                """)

        @OptionGroup var action: ActionOptions
        @Option(help: "Revoke what this certify batch certified.")
        var batch: Int64?
        @Option(help: "Entries revoked per transaction (with --batch).")
        var chunk = 5000
        @Option(help: "Parts revoked at once, on as many connections (with --batch).")
        var parts = 2
        @OptionGroup var common: Common

        func validate() throws {
            switch (action.ledgerID, batch) {
            case (nil, nil): throw ValidationError("name a ledger entry, or a certify batch with --batch N")
            case (_?, _?): throw ValidationError("name a ledger entry or --batch, not both")
            default: break
            }
            guard chunk > 0 else { throw ValidationError("--chunk must be a positive integer, got \(chunk)") }
            guard (1...16).contains(parts) else { throw ValidationError("--parts must be 1 to 16, got \(parts)") }
        }

        func run() async throws {
            let (steward, notes, chunk, parts, json) = (action.steward, action.notes, chunk, parts, common.json)
            if let id = action.ledgerID {
                try await StewardCommand.act(common) { try await $0.revoke(id, as: steward, notes: notes) }
            } else if let batch {
                try await StewardCommand.withQueries(common.connection, name: "revoke", connections: parts) { queries in
                    let outcome = try await queries.revoke(batch: batch, as: steward, notes: notes, chunk: chunk, parts: parts) {
                        StewardCommand.note(StewardFormat.batchProgress($0))
                    }
                    Console.print(json ? StewardFormat.batchJSON(outcome) : StewardFormat.batchText(outcome))
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a record's (or one field's) identifiers, current values, ledger entries and events.",
            discussion: """
                Name the record by --table and --id, or by --source and --key (the external key that system uses; \
                add --table when the key names records of several tables). --json prints one object per ledger \
                entry with its events in an "events" array.
                """)

        @OptionGroup var common: Common

        @Option(help: "The record's target table, e.g. core.person.")
        var table: String?

        @Option(help: "The record's id (uuid); needs --table.")
        var id: String?

        @Option(help: "A source system whose external key names the record; needs --key.")
        var source: String?

        @Option(help: "The record's external key in --source.")
        var key: String?

        @Option(help: "Only this field.")
        var field: String?

        func subject() throws -> StewardQueries.Subject {
            switch (id, source, key) {
            case (let id?, nil, nil):
                guard let table else { throw ValidationError("--id needs --table, e.g. --table core.person --id \(id)") }
                guard let uuid = UUID(uuidString: id) else { throw ValidationError("--id must be a uuid, got '\(id)'") }
                return .record(table: table, id: uuid)
            case (nil, let source?, let key?):
                return .external(source: source, key: key, table: table)
            case (nil, _?, nil), (nil, nil, _?):
                throw ValidationError("--source and --key go together: --source hr --key E100")
            case (nil, nil, nil):
                throw ValidationError("name the record: --table T --id UUID, or --source S --key K")
            default:
                throw ValidationError("name the record either by --table and --id or by --source and --key, not both")
            }
        }

        func validate() throws { _ = try subject() }

        func run() async throws {
            let subject = try subject()
            let (field, json, wide) = (field, common.json, common.wide)
            try await StewardCommand.withQueries(common.connection, name: "history") { queries in
                let history = try await queries.history(subject, field: field)
                if json {
                    if !history.entries.rows.isEmpty { Console.print(history.jsonLines()) }
                } else {
                    Console.print(StewardFormat.historyText(history, wide: wide))
                }
            }
        }
    }

    /// How to name one record: --key SOURCE:KEY, or --id UUID.
    struct RecordOptions: ParsableArguments {
        @Argument(help: "The record's target table, e.g. core.person.")
        var table: String

        @Option(help: ArgumentHelp("The record by a source's external key, e.g. hr:E100.", valueName: "source:key"))
        var key: String?

        @Option(help: "The record by its id (uuid).")
        var id: String?

        func subject() throws -> StewardQueries.Subject {
            switch (key, id) {
            case (let key?, nil):
                guard let colon = key.firstIndex(of: ":"), colon != key.startIndex, key.index(after: colon) != key.endIndex else {
                    throw ValidationError("--key is SOURCE:KEY, e.g. --key hr:E100, got '\(key)'")
                }
                return .external(source: String(key[..<colon]), key: String(key[key.index(after: colon)...]), table: table)
            case (nil, let id?):
                guard let uuid = UUID(uuidString: id) else { throw ValidationError("--id must be a uuid, got '\(id)'") }
                return .record(table: table, id: uuid)
            case (nil, nil):
                throw ValidationError("name the record: --key SOURCE:KEY (e.g. --key hr:E100) or --id UUID")
            case (_?, _?):
                throw ValidationError("name the record by --key or by --id, not both")
            }
        }

        func validate() throws { _ = try subject() }
    }

    struct AsOf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "asof",
            abstract: "Show a record as it stood at a moment: each field's value, owning entry, source and status then.",
            discussion: """
                Answers from the ledger's history (integration.record_as_of): what field_provenance showed at that \
                moment. --at takes any timestamp PostgreSQL reads, e.g. '2026-11-01', '2026-11-01 12:00+01'.
                """)

        @OptionGroup var record: RecordOptions
        @Option(help: "The moment, e.g. '2026-11-01 12:00+01'.")
        var at: String
        @OptionGroup var common: Common

        func run() async throws {
            let (subject, table, at, json, wide) = (try record.subject(), record.table, at, common.json, common.wide)
            try await StewardCommand.withQueries(common.connection, name: "asof") { queries in
                let rows = try await queries.asOf(subject, in: table, at: at)
                if json {
                    if !rows.rows.isEmpty { Console.print(rows.jsonLines()) }
                } else {
                    Console.print(
                        rows.rows.isEmpty
                            ? "no governed values recorded for this record by \(at)"
                            : rows.renderTable(headers: StewardFormat.headers, maxWidth: wide ? nil : 40))
                }
            }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Why a field holds its value: the entries that competed for it, the owner, and why each other one lost.",
            discussion: """
                verdict: owner, held (waiting for a steward: authority, confidence, on_certify, proposal), older (a \
                later value from the same source was applied since), superseded (another entry was applied after it), \
                rejected, revoked. Newest first (integration.explain).
                """)

        @OptionGroup var record: RecordOptions
        @Option(help: "The field, e.g. family_name.")
        var field: String
        @OptionGroup var common: Common

        func run() async throws {
            let (subject, table, field, json, wide) = (try record.subject(), record.table, field, common.json, common.wide)
            try await StewardCommand.withQueries(common.connection, name: "explain") { queries in
                let rows = try await queries.explain(subject, in: table, field: field)
                if json {
                    if !rows.rows.isEmpty { Console.print(rows.jsonLines()) }
                } else {
                    Console.print(
                        rows.rows.isEmpty
                            ? "no ledger entries for \(field) of this record"
                            : rows.renderTable(
                                columns: wide ? nil : ["ledger_id", "source_system_key", "value", "ledger_status", "verdict", "reason"],
                                headers: StewardFormat.headers, maxWidth: wide ? nil : 80))
                }
            }
        }
    }

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose a value of your own for a field: held until a different steward certifies it.",
            discussion: """
                The entry's source is 'steward'. Once another steward certifies it, the value is applied and sent to \
                every subscribed system (integration.propose). A relationship's value is the related record's id.
                """)

        @OptionGroup var record: RecordOptions
        @Option(help: "The field, e.g. email.")
        var field: String
        @Option(help: "The value you propose.")
        var value: String
        @Option(name: .customLong("as"), help: ArgumentHelp("Act as this steward; default: the database role's own app_user.", valueName: "steward"))
        var steward: String?
        @Option(help: "Why; recorded with the proposal.")
        var notes: String?
        @OptionGroup var common: Common

        func run() async throws {
            let (subject, table, field, value, steward, notes) = (try record.subject(), record.table, field, value, steward, notes)
            try await StewardCommand.withQueries(common.connection, name: "propose") { queries in
                let id = try await queries.propose(subject, in: table, field: field, value: value, notes: notes, as: steward)
                Console.print("ledger entry \(id): proposed \(StewardFormat.quoted(value)) for \(field), held for another steward")
            }
        }
    }

    // MARK: Shared

    /// One ledger id, or filters: not both, not neither.
    static func validateTarget(_ id: Int64?, _ filters: FilterOptions, _ bulk: BulkOptions) throws {
        let filtered = !filters.filter().isEmpty
        switch (id, filtered) {
        case (nil, false):
            throw ValidationError("name a ledger entry, or filter the entries to decide (--table, --field, --source, --reason, --held/--applied, --older-than)")
        case (_?, true):
            throw ValidationError("name a ledger entry or give filters, not both")
        case (_?, false) where bulk.dryRun:
            throw ValidationError("--dry-run goes with filters: it shows what a bulk decision would decide")
        default:
            break
        }
    }

    /// A bulk decision: preview with --dry-run, else the batch with progress on stderr.
    static func bulk(
        _ action: StewardQueries.Action, _ filters: FilterOptions, _ bulk: BulkOptions, _ common: Common, steward: String?,
        notes: String?, reason: String?
    ) async throws {
        let (filter, json, wide, chunk, parts, dryRun) = (
            filters.filter(), common.json, common.wide, bulk.chunk, bulk.parts, bulk.dryRun
        )
        try await withQueries(common.connection, name: action.rawValue, connections: parts) { queries in
            if dryRun {
                let preview = try await queries.preview(filter)
                if json {
                    if !preview.entries.rows.isEmpty { Console.print(preview.entries.jsonLines()) }
                    note(StewardFormat.queueCounts(preview))
                } else {
                    Console.print("dry run: \(action.rawValue) would decide \(preview.total) \(preview.total == 1 ? "entry" : "entries"); nothing changed")
                    Console.print(StewardFormat.queueCounts(preview))
                    if !preview.entries.rows.isEmpty { Console.print(StewardFormat.queueTable(preview, wide: wide)) }
                }
                return
            }
            let outcome = try await queries.decide(
                action, where: filter, as: steward, notes: notes, reason: reason, chunk: chunk, parts: parts
            ) {
                note(StewardFormat.batchProgress($0))
            }
            Console.print(json ? StewardFormat.batchJSON(outcome) : StewardFormat.batchText(outcome))
        }
    }


    /// Runs `body` with the steward queries on `connections` connections (one,
    /// or a bulk decision's parts); any error is printed as the server's (or
    /// our) message on stderr, exit status 1.
    static func withQueries(
        _ connection: ConnectionOptions, name: String, connections: Int = 1,
        _ body: @escaping @Sendable (StewardQueries) async throws -> Void
    ) async throws {
        try await withCommandClient(connection, applicationName: "syncledger steward \(name)", connections: connections) {
            client, logger in
            try await body(StewardQueries(client: client, logger: logger))
        }
    }

    /// Runs `body` with a client of `connections` connections (default one)
    /// for a short command: one connection check first (``CheckedDatabase``:
    /// a server that cannot be used fails at once, naming the cause, exit 69
    /// or 78), and any later error printed as the server's (or our) message
    /// on stderr, exit status 1.
    static func withCommandClient(
        _ connection: ConnectionOptions, applicationName: String, connections: Int = 1,
        _ body: @escaping @Sendable (PostgresClient, Logger) async throws -> Void
    ) async throws {
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let url = try connection.requiredURL()
        do {
            try await CheckedDatabase.check(url, requireSchema: true, migrator: CheckedDatabase.migrator(connection, logger: logger), logger: logger)
            try await Database.withClient(url, applicationName: applicationName, maximumConnections: connections, logger: logger) {
                try await body($0, logger)
            }
        } catch {
            throw fail(error, url: url)
        }
    }

    /// certify, reject, revoke: run, print the result, fail with the message.
    static func act(_ common: Common, _ perform: @escaping @Sendable (StewardQueries) async throws -> StewardQueries.ActionResult)
        async throws
    {
        let (json, wide) = (common.json, common.wide)
        try await withQueries(common.connection, name: "action") { queries in
            let result = try await perform(queries)
            Console.print(json ? result.entry.jsonLines() : StewardFormat.actionText(result, wide: wide))
        }
    }

    /// A line on stderr, e.g. a count or a hint; stdout stays data.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints `error` as words on stderr (not a Swift dump); the exit code to throw (1).
    /// Errors that did not come from the server nor from our own checks are
    /// about reaching the database at `url`, and say so.
    static func fail(_ error: any Error, url: DatabaseURL) -> ExitCode {
        if let exit = error as? ExitCode { return exit }
        if let known = StewardError.server(error) {
            note("error: \(known)")
        } else {
            note(
                "error: cannot work with the database at \(url): \(PostgresErrors.message(error))\n"
                    + "hint: check DATABASE_URL (or --database-url) and that PostgreSQL is running and accepts connections")
        }
        return .failure
    }
}
