import ArgumentParser
import Foundation
import PostgresNIO
import SyncLedger

@main
struct SyncLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncledger",
        abstract: "Synchronise and certify records from many external systems, on PostgreSQL.",
        subcommands: [
            MigrateCommand.self, WorkerCommand.self, StatusCommand.self, DemoCommand.self, BenchCommand.self,
            StewardCommand.self, OutboundCommand.self, VerifyCommand.self,
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
        } catch let error where error is PSQLError || error is PostgresTransactionError {
            FileHandle.standardError.write(Data("Error: \(PostgresErrors.message(error))\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
