import ArgumentParser
import Foundation
import SyncLedgerCore
import SyncLedgerPostgres

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the ledger explains every governed value and that its hash chain is intact; exit 1 on any finding.",
        discussion: """
            Runs integration.provenance_violations() (a governed value the ledger does not explain) and \
            integration.verify_ledger() (an entry or event whose content, order or absence does not match its hash chain, \
            or whose status its events do not explain), in one snapshot, and prints every finding with the entry it \
            names. Exit status 0 when both are empty, 1 otherwise: schedule it (a systemd timer, cron) and alert on failure.

            It also checks the Merkle log against the ledger (integration.verify_log()), and with --checkpoint FILE \
            (a checkpoint `syncledger checkpoint` printed earlier, kept outside the database) proves with a \
            consistency proof that today's log extends it: edits made behind the triggers' back by a superuser who \
            also recomputed every hash are caught that way. On a finding it exits 1 and names the first one on \
            stderr (truncated tail, rewound or rewritten history, re-ordered entries, a moved owner or clock, a value \
            with no ledger entry).

            Examples:
              syncledger verify
              syncledger verify --checkpoint /secure/checkpoints/2026-12-01.json
              syncledger verify --json | jq .
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "One JSON object per finding (and one for the anchor), for scripts.")
    var json = false

    @Option(help: ArgumentHelp("A checkpoint file (from `syncledger checkpoint`): prove the ledger extends it.", valueName: "file"))
    var checkpoint: String?

    func validate() throws { _ = try connection.requiredURL() }

    func run() async throws {
        let json = json
        let trusted = try checkpoint.map { try CheckpointFile.read($0) }
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger verify") { client, logger in
            let result = try await Verification.run(on: client, checkpoint: trusted, logger: logger)
            if json {
                for line in [
                    result.violations.jsonLines(extra: { _ in [("check", "\"provenance\"")] }),
                    result.findings.jsonLines(extra: { _ in [("check", "\"chain\"")] }),
                    result.log.jsonLines(extra: { _ in [("check", "\"log\"")] }),
                    result.consistency.map { "{\"check\":\"checkpoint\",\"detail\":\(JSONText.quoted($0))}" } ?? "",
                    result.anchor.jsonLines(extra: { _ in [("check", "\"anchor\"")] }),
                ] where !line.isEmpty {
                    Console.print(line)
                }
            } else {
                Console.print("== Provenance: governed values the ledger does not explain")
                Console.print(result.violations.renderTable(maxWidth: 40) + "\n")
                Console.print("== Ledger chain and history")
                Console.print(result.findings.renderTable(maxWidth: 120) + "\n")
                Console.print("== Merkle log")
                Console.print(result.log.renderTable(maxWidth: 120) + "\n")
                if let trusted {
                    Console.print("== Checkpoint of \(trusted.treeSize) leaves (\(RFC3339Time.string(from: trusted.time)))")
                    Console.print((result.consistency ?? "today's log extends it (consistency proof verified)") + "\n")
                }
                Console.print("== Anchor (keep it outside the database)")
                Console.print(result.anchor.renderTable(maxWidth: nil))
            }
            if !result.isClean {
                StewardCommand.note(
                    "verify: \(result.violations.rows.count) provenance violation(s), \(result.findings.rows.count) chain finding(s), "
                        + "\(result.log.rows.count) log finding(s)\(result.consistency == nil ? "" : ", the checkpoint is not extended")")
                if let first = result.firstFinding { StewardCommand.note("first finding: \(first)") }
                throw ExitCode.failure
            }
        }
    }
}
