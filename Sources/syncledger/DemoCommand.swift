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
        let given = try connection.url()
        if let given { try await CheckedDatabase.check(given, requireSchema: false, migrator: nil, logger: logger) }
        try await Database.withDefaultDatabase(given, logger: logger) { url in
            var target = url
            if given != nil {
                try await Database.createDatabase("syncledger_demo", on: url, replace: true, logger: logger)
                target = url.with(database: "syncledger_demo")
            }
            try await Demo(migrator: migrator, logger: logger).run(url: target) { Console.print($0) }
        }
    }
}
