import ArgumentParser
import Logging
import SyncLedger

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the worker against a hand-written set-based SQL reference, pickup latency, and scaling.",
        discussion: """
            Run it as `swift run -c release syncledger bench`. Without DATABASE_URL it starts a throwaway PostgreSQL \
            cluster; with DATABASE_URL it (re)creates a database named syncledger_bench on that server.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Inbound jobs in the throughput workload.") var jobs = 20
    @Option(help: "Records per job.") var records = 1000
    @Option(help: "Fields per record (1-5); items = jobs × records × fields.") var fields = 5
    @Option(help: "Jobs the worker processes at once.") var concurrency = 2
    @Option(help: "Items per chunk transaction.") var chunkSize = 500
    @Option(help: "Chunk transactions at once inside a job.") var parallelChunks = 2
    @Option(help: "Jobs measured for pickup latency (0 = skip).") var latencySamples = 50
    @Flag(help: "Skip the SQL reference.") var skipReference = false
    @Flag(help: "Skip the 1/2/4-concurrent-jobs scaling runs.") var skipScaling = false

    func validate() throws {
        for (name, value) in [("jobs", jobs), ("records", records), ("fields", fields), ("concurrency", concurrency), ("chunk-size", chunkSize), ("parallel-chunks", parallelChunks)] where value < 1 {
            throw ValidationError("--\(name) must be at least 1")
        }
    }

    func run() async throws {
        let logger = Logs.bootstrap(defaultLevel: .warning)
        var options = Benchmark.Options()
        options.jobs = jobs
        options.records = records
        options.fields = fields
        options.concurrency = concurrency
        options.chunkSize = chunkSize
        options.parallelChunks = parallelChunks
        options.latencySamples = latencySamples
        options.reference = !skipReference
        options.scaling = !skipScaling
        let benchmark = Benchmark(options: options, migrator: try connection.migrator(), logger: logger)
        let given = try connection.url()
        try await Database.withDefaultDatabase(given, logger: logger) { url in
            var target = url
            if given != nil {
                try await Database.createDatabase("syncledger_bench", on: url, replace: true, logger: logger)
                target = url.with(database: "syncledger_bench")
            }
            try await benchmark.run(url: target) { Console.print($0) }
        }
    }
}
