import ArgumentParser
import Logging
import SyncLedgerDevSupport
import SyncLedgerPostgres

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a small end-to-end scenario and print what happened.",
        discussion: """
            Without DATABASE_URL the demo starts a throwaway PostgreSQL cluster and deletes it afterwards. With \
            DATABASE_URL it (re)creates a database named syncledger_demo on that server and runs there.
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let logger = Logs.bootstrap(defaultLevel: .warning)
        let migrator = try connection.migrator()
        try await CheckedDatabase.withScratchDatabase("syncledger_demo", connection, logger: logger) { url in
            try await Demo(migrator: migrator, logger: logger).run(url: url) { Console.print($0) }
        }
    }
}
