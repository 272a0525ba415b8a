import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// `syncledger match --dry-run --table T` (SPEC §8): what the table's match
/// rules would link and suspect among its existing records, for tuning rules
/// before turning them on (`integration.match_preview`).
struct MatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Preview what match rules find among a table's existing records (identity resolution).",
        discussion: """
            Matching happens in the worker, for new external keys; this command only reports, and changes nothing \
            (--dry-run is required). For each rule (the table's active rules, or the ones named with --rule, active \
            or not): how many records have a key for it, the pairs of records it finds, how many records are in a \
            pair, how many pairs it would link (a link rule, each record the other's only candidate, no source with \
            a key on both) and how many it would leave as suspects; then sample pairs with both records' external \
            keys, the rule's fields and the score.

            Examples:
              syncledger match --dry-run --table core.person
              syncledger match --dry-run --table core.person --rule name_birth_similar --samples 20 --json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Report only (required: matching itself happens in the worker).")
    var dryRun = false

    @Option(help: "The target table, e.g. core.person.")
    var table: String

    @Option(name: .customLong("rule"), help: "Only this rule, active or not (repeatable).")
    var rules: [String] = []

    @Option(help: "Sample pairs shown per rule and outcome.")
    var samples = 5

    @Flag(help: "Print JSON Lines (one object per rule, samples nested) instead of tables.")
    var json = false

    func validate() throws {
        guard dryRun else {
            throw ValidationError("only --dry-run is available: the worker matches new keys as it processes them")
        }
        guard samples >= 0 else { throw ValidationError("--samples cannot be negative, got \(samples)") }
        _ = try connection.requiredURL()
    }

    func run() async throws {
        let (table, rules, samples, json) = (table, rules, samples, json)
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger match") { client, logger in
            let preview = try await IdentityQueries(client: client, logger: logger)
                .preview(table: table, rules: rules.isEmpty ? nil : rules, samples: samples)
            if json {
                if !preview.rows.isEmpty { Console.print(preview.jsonLines()) }
                return
            }
            if preview.rows.isEmpty {
                Console.print("no \(rules.isEmpty ? "active match rules" : "such match rules") on \(table)")
                return
            }
            Console.print(preview.renderTable(columns: IdentityQueries.previewColumns.filter { $0 != "samples" }, maxWidth: nil))
            for row in preview.rows.indices {
                let rule = preview.rows[row][0] ?? ""
                let shown = Self.samples(preview.value("samples", row: row))
                guard !shown.rows.isEmpty else { continue }
                Console.print("\nsamples of \(rule):")
                Console.print(shown.renderTable(maxWidth: 48))
            }
        }
    }

    /// The samples (a JSON array of objects) as rows.
    static func samples(_ json: String?) -> Listing {
        let keys = ["outcome", "score", "record", "record_values", "other", "other_values"]
        guard let data = json?.data(using: .utf8),
            let array = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
        else { return Listing(columns: keys.map { Listing.Column($0) }, rows: []) }
        return Listing(
            columns: keys.map { Listing.Column($0) },
            rows: array.map { object in keys.map { key in object[key].map { "\($0)" } } })
    }
}
