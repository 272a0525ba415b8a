import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedgerPostgres

/// `syncledger steward suspects | merge | unmerge | dismiss` (SPEC §8): the
/// SQL functions of `sql/code/45_identity.sql`, one transaction each.
extension StewardCommand {
    /// Runs `body` with the identity queries on one connection (see ``withCommandClient``).
    static func withIdentity(
        _ connection: ConnectionOptions, name: String, _ body: @escaping @Sendable (IdentityQueries) async throws -> Void
    ) async throws {
        try await withCommandClient(connection, applicationName: "syncledger steward \(name)") { client, logger in
            try await body(IdentityQueries(client: client, logger: logger))
        }
    }

    /// Options of merge, unmerge and dismiss.
    struct IdentityActionOptions: ParsableArguments {
        @Option(name: .customLong("as"), help: ArgumentHelp("Act as this steward (app_user.user_name); default: the database role.", valueName: "steward"))
        var steward: String?

        @Option(help: "Why; recorded with the merge and in its ledger events.")
        var notes: String?
    }

    struct Suspects: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List suspect pairs: records a match rule found alike (integration.suspect_queue), oldest first.",
            discussion: """
                Each pair shows both records by their external keys and the rule's fields, the rule and its score. \
                Resolve a pair with `steward merge --suspect ID` (the record created for the new key goes into the one \
                that was there first) or `steward dismiss ID`.
                """)

        @OptionGroup var common: Common

        @Option(help: "Only this target table, e.g. core.person.")
        var table: String?

        @Option(help: "open (default), merged, dismissed or all.")
        var status = "open"

        @Option(help: "At most this many pairs.")
        var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be a positive integer, got \(limit)") }
            guard ["open", "merged", "dismissed", "all"].contains(status) else {
                throw ValidationError("--status is open, merged, dismissed or all, not '\(status)'")
            }
        }

        func run() async throws {
            let filter = IdentityQueries.SuspectFilter(table: table, status: status == "all" ? nil : status, limit: limit)
            let (json, wide) = (common.json, common.wide)
            try await StewardCommand.withIdentity(common.connection, name: "suspects") { queries in
                let suspects = try await queries.suspects(filter)
                if json {
                    if !suspects.pairs.rows.isEmpty { Console.print(suspects.pairs.jsonLines()) }
                } else {
                    Console.print(
                        suspects.pairs.renderTable(
                            columns: wide
                                ? nil
                                : ["suspect_id", "status", "target_keys", "target_values", "candidate_keys", "candidate_values", "rule_name", "score", "age"],
                            maxWidth: wide ? nil : 40))
                }
                if json || suspects.total > suspects.pairs.rows.count {
                    StewardCommand.note("\(suspects.pairs.rows.count) of \(suspects.total) suspect pairs shown")
                }
            }
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge two records of one table: the merged record's identifiers, values and relationships go to the survivor.",
            discussion: """
                Name the records (SURVIVOR MERGED, their target_id) or a suspect pair (--suspect ID: the record created \
                for the new key is merged into the one that was there first). Identifiers move to the survivor; each \
                governed field is settled by the ownership rules (held values stay held); relationships that named the \
                merged record name the survivor; the merged record is deactivated; systems whose record changed get \
                outbound updates. Everything is in the ledger; `steward unmerge MERGE_ID` undoes it.
                """)

        @Argument(help: "The record that stays (target_id).")
        var survivor: String?

        @Argument(help: "The record merged into it (target_id).")
        var merged: String?

        @Option(help: "Merge the pair of this suspect (integration.match_suspect) instead of naming the records.")
        var suspect: Int64?

        @OptionGroup var action: IdentityActionOptions
        @OptionGroup var common: Common

        func records() throws -> (UUID, UUID)? {
            switch (survivor, merged, suspect) {
            case (let survivor?, let merged?, nil):
                guard let s = UUID(uuidString: survivor), let m = UUID(uuidString: merged) else {
                    throw ValidationError("SURVIVOR and MERGED are record ids (uuid), got '\(survivor)' and '\(merged)'")
                }
                return (s, m)
            case (nil, nil, _?):
                return nil
            default:
                throw ValidationError("name the records (SURVIVOR MERGED) or a suspect pair (--suspect ID), not both")
            }
        }

        func validate() throws { _ = try records() }

        func run() async throws {
            let named = try records()
            let (suspect, steward, notes, json, wide) = (suspect, action.steward, action.notes, common.json, common.wide)
            try await StewardCommand.withIdentity(common.connection, name: "merge") { queries in
                let (survivor, merged): (UUID, UUID)
                if let named { (survivor, merged) = named } else { (survivor, merged) = try await queries.pair(ofSuspect: suspect ?? 0) }
                let result = try await queries.merge(survivor: survivor, merged: merged, notes: notes, as: steward)
                Console.print(json ? result.jsonLines() : result.renderTable(maxWidth: wide ? nil : 40))
            }
        }
    }

    struct Unmerge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a merge: identifiers, the merged record, its values and relationships come back.",
            discussion: """
                The merge's ledger entries are withdrawn (pending ones rejected, certified ones revoked); every value \
                and relationship the merge still owns returns to what it was, if nobody changed it since; the merged \
                record is active again with its own identifiers; its suspect pairs are open again.
                """)

        @Argument(help: "The merge (merge_id, as `steward merge` printed it, or from integration.record_merge).")
        var mergeID: Int64

        @OptionGroup var action: IdentityActionOptions
        @OptionGroup var common: Common

        func run() async throws {
            let (id, steward, notes, json, wide) = (mergeID, action.steward, action.notes, common.json, common.wide)
            try await StewardCommand.withIdentity(common.connection, name: "unmerge") { queries in
                let result = try await queries.unmerge(id, notes: notes, as: steward)
                Console.print(json ? result.jsonLines() : result.renderTable(maxWidth: wide ? nil : 40))
            }
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dismiss a suspect pair: the two records are not the same.")

        @Argument(help: "The suspect pair (suspect_id, as `steward suspects` shows it).")
        var suspectID: Int64

        @OptionGroup var action: IdentityActionOptions
        @OptionGroup var common: Common

        func run() async throws {
            let (id, steward, notes, json, wide) = (suspectID, action.steward, action.notes, common.json, common.wide)
            try await StewardCommand.withIdentity(common.connection, name: "dismiss") { queries in
                let result = try await queries.dismiss(id, notes: notes, as: steward)
                Console.print(json ? result.jsonLines() : result.renderTable(maxWidth: wide ? nil : 40))
            }
        }
    }
}
