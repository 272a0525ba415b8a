import ArgumentParser

@main
struct SyncLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "syncledger",
        abstract: "Synchronise and certify records from many external systems, on PostgreSQL.",
        subcommands: [
            MigrateCommand.self, WorkerCommand.self, StatusCommand.self, DemoCommand.self, BenchCommand.self,
        ])

}
