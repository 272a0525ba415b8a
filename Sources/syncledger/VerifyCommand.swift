import ArgumentParser
import Foundation
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

            It also prints the ledger anchor, a digest over every record's chain head. The chain detects edits made \
            behind the triggers' back (by a superuser) unless whoever made them also recomputed the hashes; keep each \
            anchor somewhere the database's superusers cannot write, to notice that too.

            Examples:
              syncledger verify
              syncledger verify --json | jq .
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "One JSON object per finding (and one for the anchor), for scripts.")
    var json = false

    func validate() throws { _ = try connection.requiredURL() }

    func run() async throws {
        let json = json
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger verify") { client, logger in
            let result = try await Verification.run(on: client, logger: logger)
            if json {
                for line in [
                    result.violations.jsonLines(extra: { _ in [("check", "\"provenance\"")] }),
                    result.findings.jsonLines(extra: { _ in [("check", "\"chain\"")] }),
                    result.anchor.jsonLines(extra: { _ in [("check", "\"anchor\"")] }),
                ] where !line.isEmpty {
                    Console.print(line)
                }
            } else {
                Console.print("== Provenance: governed values the ledger does not explain")
                Console.print(result.violations.renderTable(maxWidth: 40) + "\n")
                Console.print("== Ledger chain and history")
                Console.print(result.findings.renderTable(maxWidth: 120) + "\n")
                Console.print("== Anchor (keep it outside the database)")
                Console.print(result.anchor.renderTable(maxWidth: nil))
            }
            if !result.isClean {
                StewardCommand.note(
                    "verify: \(result.violations.rows.count) provenance violation(s), \(result.findings.rows.count) chain finding(s)")
                throw ExitCode.failure
            }
        }
    }
}
