import ArgumentParser
import SyncLedger

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the pending numbered migrations of sql/, each in a transaction.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let logger = Logs.bootstrap()
        let url = try connection.requiredURL()
        let migrator = try connection.migrator()
        let applied = try await Database.withClient(url, applicationName: "syncledger migrate", maximumConnections: 1, logger: logger) {
            try await migrator.migrate(client: $0, logger: logger)
        }
        print(applied.isEmpty ? "schema is up to date (\(migrator.migrations.count) migrations)" : "applied \(applied.joined(separator: ", "))")
    }
}
