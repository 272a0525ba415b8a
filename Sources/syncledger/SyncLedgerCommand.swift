import ArgumentParser
import Foundation
import PostgresNIO
import SyncLedgerPostgres

@main
struct SyncLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncledger",
        abstract: "Synchronise and certify records from many external systems, on PostgreSQL.",
        discussion: """
            Every command reads the database from DATABASE_URL (or --database-url), checks it once before it starts \
            and names the cause when it cannot be used. Logs go to stderr: SYNCLEDGER_LOG_LEVEL (trace, debug, info, \
            notice, warning, error, critical) and SYNCLEDGER_LOG_FORMAT (text or json).

            Exit status: 0 success; 1 failure or refusal; 64 invalid options or settings; 69 the database cannot be \
            reached (retrying later may help); 78 the database refuses this configuration (password, TLS, database \
            name, schema not migrated): fix it first.
            """,
        version: SyncLedgerVersion.current,
        subcommands: [
            MigrateCommand.self, WorkerCommand.self, StatusCommand.self, DemoCommand.self, BenchCommand.self,
            StewardCommand.self, OutboundCommand.self, VerifyCommand.self, CheckpointCommand.self, ProveCommand.self,
            VerifyProofCommand.self, SubmitCommand.self, PruneCommand.self, MatchCommand.self,
        ])

    /// Runs the command; database errors are shown as the server's message
    /// (postgres-nio redacts them by default), other errors as usual.
    static func main() async {
        do {
            var command = try parseAsRoot()
            do {
                _ = try Logs.settings()
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as ConnectionCheck.Failure {
            CheckedDatabase.report(failure)
            Foundation.exit(failure.exitCode)
        } catch let error as PSQLError {
            FileHandle.standardError.write(Data("Error: \(PostgresErrors.message(error))\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
