import ArgumentParser
import Foundation
import Logging
import SyncLedgerPostgres

struct OutboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbound",
        abstract: "For connectors: claim the next outbound job of a system, and acknowledge it once delivered.",
        discussion: """
            A connector loop: `syncledger outbound next --source payroll --owner payroll-1` prints the items of the \
            oldest waiting job as JSON Lines and its claim token on stderr; deliver them; then \
            `syncledger outbound ack JOB_ID --claim TOKEN`. A job not acknowledged before its lease ends is handed out again by a later `next`. Several connector \
            instances may claim side by side (FOR UPDATE SKIP LOCKED). The same is available in SQL: \
            integration.claim_outbound(source, owner, lease_seconds), whose row carries claim_token, and \
            integration.ack_outbound(job_id, claim_token).
            """,
        subcommands: [Next.self, Ack.self, GroupHelp<OutboundCommand>.self])

    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Claim the oldest outbound job for a system and print its items, one JSON object per line.",
            discussion: """
                Each line: {"job_id", "item_id", "seq", "external_key", "target_table", "operation" (Set or Link), \
                "field_name", "new_value" (the system's own code; for Link the related record's external key), \
                "target_id", "ledger_id"}. The job id and lease go to stderr. When no job waits, prints nothing, says \
                so on stderr and exits 0. Errors exit 1.
                """)

        @OptionGroup var connection: ConnectionOptions

        @Option(help: "The receiving source system (source_system_key), e.g. payroll.")
        var source: String

        @Option(help: "Lease owner name, for people reading the job (default: HOST:outbound).")
        var owner: String?

        @Option(help: "Lease length; after it, the job can be claimed again.")
        var leaseSeconds = 300

        func validate() throws {
            guard leaseSeconds > 0, leaseSeconds <= Int(Int32.max) else {
                throw ValidationError("--lease-seconds must be a positive integer, got \(leaseSeconds)")
            }
            if let owner, owner.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--owner must not be empty") }
            _ = try connection.requiredURL()
        }

        func run() async throws {
            let (source, owner, lease) = (source, owner ?? OutboundQueries.defaultOwner, leaseSeconds)
            try await OutboundCommand.withQueries(connection, name: "next") { queries in
                guard let claim = try await queries.claim(source: source, owner: owner, leaseSeconds: lease) else {
                    StewardCommand.note("no outbound job waiting for \(source)")
                    return
                }
                if !claim.items.rows.isEmpty { Console.print(claim.items.jsonLines()) }
                StewardCommand.note(
                    "claimed outbound job \(claim.jobID) for \(source): \(claim.items.rows.count) item(s), leased to \(owner) "
                        + "until \(claim.leaseExpiresAt ?? "?"); when delivered: syncledger outbound ack \(claim.jobID) --claim "
                        + (claim.token?.uuidString.lowercased() ?? "?"))
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a claimed outbound job delivered: its items Applied, the job Completed.",
            discussion: "Prints the job as one JSON object. Refused (exit 1) for an unknown job, an inbound job, a job not being processed, or, with --claim, a job another claim holds now (its lease expired and it was claimed again).")

        @OptionGroup var connection: ConnectionOptions

        @Argument(help: "The job id printed by `outbound next`.")
        var jobID: Int64

        @Option(help: "Refuse unless this claim still holds the job (the token `next` printed).")
        var claim: String?

        func validate() throws {
            if let claim, UUID(uuidString: claim) == nil { throw ValidationError("--claim takes the token `outbound next` printed (a uuid), got '\(claim)'") }
            _ = try connection.requiredURL()
        }

        func run() async throws {
            let (jobID, claim) = (jobID, claim.flatMap(UUID.init(uuidString:)))
            try await OutboundCommand.withQueries(connection, name: "ack") { queries in
                let job = try await queries.acknowledge(jobID, claim: claim)
                Console.print(job.jsonLines())
            }
        }
    }

    /// Runs `body` with the outbound queries; errors are printed as words on
    /// stderr, exit status 1.
    static func withQueries(
        _ connection: ConnectionOptions, name: String, _ body: @escaping @Sendable (OutboundQueries) async throws -> Void
    ) async throws {
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger outbound \(name)") { client, logger in
            try await body(OutboundQueries(client: client, logger: logger))
        }
    }
}
