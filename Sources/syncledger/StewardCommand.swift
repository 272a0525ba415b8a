import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedger

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
              syncledger steward queue --table core.person --source payroll
              syncledger steward certify 42 --as dana --notes "checked with HR"
              syncledger steward certify 43 --as dana --force --notes "seen the contract"
              syncledger steward reject 44 --as dana --notes "payroll spelling is wrong"
              syncledger steward revoke 45 --as dana --notes "certified by mistake"
              syncledger steward history --source hr --key E100 --field email --json
              syncledger steward help certify
            """,
        subcommands: [
            Queue.self, Certify.self, Reject.self, Revoke.self, History.self, Suspects.self, Merge.self, Unmerge.self, Dismiss.self,
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
        var ledgerID: Int64

        @Option(name: .customLong("as"), help: ArgumentHelp("Act as this steward (app_user.user_name); default: the database role.", valueName: "steward"))
        var steward: String?

        @Option(help: "Why; recorded in the ledger event.")
        var notes: String?
    }

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List pending ledger entries, oldest first (integration.review_queue).",
            discussion: """
                conflict = yes means the target changed since the entry was recorded: certify needs --force. \
                applied = yes means the value is already in the target (certify only confirms it; reject rolls it back).
                """)

        @OptionGroup var common: Common

        @Option(help: "Only this target table, e.g. core.person.")
        var table: String?

        @Option(help: "Only entries from this source system.")
        var source: String?

        @Option(help: "Only this field.")
        var field: String?

        @Option(help: "At most this many entries.")
        var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be a positive integer, got \(limit)") }
        }

        func run() async throws {
            let filter = StewardQueries.QueueFilter(table: table, source: source, field: field, limit: limit)
            let json = common.json
            let wide = common.wide
            try await StewardCommand.withQueries(common.connection, name: "queue") { queries in
                let queue = try await queries.queue(filter)
                if json {
                    if !queue.entries.rows.isEmpty { Console.print(queue.entries.jsonLines()) }
                } else {
                    Console.print(StewardFormat.queueTable(queue, wide: wide))
                }
                if json || queue.total > queue.entries.rows.count {
                    StewardCommand.note("\(queue.entries.rows.count) of \(queue.total) pending entries shown")
                }
            }
        }
    }

    struct Certify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Certify a pending entry: Pending → Certified; a held value is applied now.",
            discussion: """
                If the target changed since the entry was recorded, certify refuses (a conflict) unless --force. \
                Other pending entries for the same field stay pending.
                """)

        @OptionGroup var action: ActionOptions
        @Flag(help: "Apply the value even though the target changed since the entry was recorded.")
        var force = false
        @OptionGroup var common: Common

        func run() async throws {
            let (id, steward, notes, force) = (action.ledgerID, action.steward, action.notes, force)
            try await StewardCommand.act(common) { try await $0.certify(id, as: steward, notes: notes, force: force) }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a pending entry: Pending → Rejected; an applied value is rolled back.",
            discussion: """
                The previous value is restored only if the target still holds the rejected value; otherwise the \
                target is left alone and the result says so.
                """)

        @OptionGroup var action: ActionOptions
        @OptionGroup var common: Common

        func run() async throws {
            let (id, steward, notes) = (action.ledgerID, action.steward, action.notes)
            try await StewardCommand.act(common) { try await $0.reject(id, as: steward, notes: notes) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a certification: Certified → Revoked; the earlier certified value comes back.",
            discussion: """
                The target returns to the latest earlier certified value of the field (NULL when there is none), \
                if it still holds the revoked value; otherwise it is left alone and the result says so.
                """)

        @OptionGroup var action: ActionOptions
        @OptionGroup var common: Common

        func run() async throws {
            let (id, steward, notes) = (action.ledgerID, action.steward, action.notes)
            try await StewardCommand.act(common) { try await $0.revoke(id, as: steward, notes: notes) }
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

    // MARK: Shared

    /// Runs `body` with the steward queries on one connection; any error is
    /// printed as the server's (or our) message on stderr, exit status 1.
    static func withQueries(
        _ connection: ConnectionOptions, name: String, _ body: @escaping @Sendable (StewardQueries) async throws -> Void
    ) async throws {
        try await withCommandClient(connection, applicationName: "syncledger steward \(name)") { client, logger in
            try await body(StewardQueries(client: client, logger: logger))
        }
    }

    /// Runs `body` with a one-connection client for a short command: one
    /// connection check first (``CheckedDatabase``: a server that cannot be
    /// used fails at once, naming the cause, exit 69 or 78), and any later
    /// error printed as the server's (or our) message on stderr, exit status 1.
    static func withCommandClient(
        _ connection: ConnectionOptions, applicationName: String,
        _ body: @escaping @Sendable (PostgresClient, Logger) async throws -> Void
    ) async throws {
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let url = try connection.requiredURL()
        do {
            try await CheckedDatabase.check(url, requireSchema: true, migrator: CheckedDatabase.migrator(connection, logger: logger), logger: logger)
            try await Database.withClient(url, applicationName: applicationName, maximumConnections: 1, logger: logger) {
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
