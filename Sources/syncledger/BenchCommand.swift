import ArgumentParser
import Logging
import SyncLedgerDevSupport
import SyncLedgerPostgres
import SyncLedgerWorker

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure small and large jobs against plain-SQL references, with history, pickup latency, CPU and memory.",
        discussion: """
            Run it as `swift run -c release syncledger bench`. Without DATABASE_URL it starts a throwaway PostgreSQL \
            cluster; with DATABASE_URL it (re)creates a database named syncledger_bench on that server.

            Prints, in one run: small jobs/s (one-item jobs) next to a plain PostgreSQL queue draining no-op jobs; \
            large jobs' items/s next to a lean hand-written set-based SQL pipeline doing the same work, with their \
            ratio and checks (identical target rows, a ledger that verifies); the same with a checkpoint every \
            --checkpoint-every seconds, as a ratio of the rate without; the same after --history ledger entries \
            were preloaded, and verify_ledger's rows/s over the whole ledger; a steward's bulk certify (entries/s) and record_as_of latency at that history size; pickup \
            latency; the worker's and PostgreSQL's CPU seconds; peak RSS.

            Examples:
              swift run -c release syncledger bench
              swift run -c release syncledger bench --history 10000000 --big-job 1000000
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Inbound jobs in the throughput workload.") var jobs = 20
    @Option(help: "Records per job.") var records = 1000
    @Option(help: "Fields per record (1-5); items = jobs × records × fields.") var fields = 5
    @Option(help: "Jobs the worker processes at once.") var concurrency = 2
    @Option(help: "Items per chunk transaction.") var chunkSize = WorkerSettings().chunkSize
    @Option(help: "Chunk transactions at once inside a job.") var parallelChunks = 2
    @Option(help: "Most small jobs a worker claims together.") var batchJobs = 200
    @Option(help: "One-item jobs in the small-jobs run (0 = skip).") var smallJobs = 5000
    @Option(help: "Ledger entries preloaded for the history run (0 = skip).") var history = 1_000_000
    @Option(help: "Items of one big job, to watch memory (0 = skip).") var bigJob = 0
    @Option(help: "Jobs measured for pickup latency (0 = skip).") var latencySamples = 50
    @Option(help: "Pending entries certified by one bulk decision (0 = skip).") var bulkCertify = 100_000
    @Option(help: "Records asked record_as_of, at the history's size (0 = skip).") var asOfSamples = 200
    @Option(help: "Seconds between checkpoints in a third large-workload run, compared with the first (0 = skip).")
    var checkpointEvery = 1.0
    @Option(help: "Jobs of 1,000 new people each, per table: without match rules, with two blocked, with two by trigrams (0 = skip).") var identityJobs = 10
    @Flag(help: "Skip the SQL reference.") var skipReference = false
    @Flag(help: "Also run 1, 2 and 4 claims at once.") var scaling = false

    func validate() throws {
        for (name, value) in [("jobs", jobs), ("records", records), ("fields", fields), ("concurrency", concurrency), ("chunk-size", chunkSize), ("parallel-chunks", parallelChunks), ("batch-jobs", batchJobs)] where value < 1 {
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
        options.batchJobs = batchJobs
        options.smallJobs = max(0, smallJobs)
        options.history = max(0, history)
        options.bigJob = max(0, bigJob)
        options.latencySamples = latencySamples
        options.bulkCertify = max(0, bulkCertify)
        options.asOfSamples = max(0, asOfSamples)
        options.checkpointEvery = max(0, checkpointEvery)
        options.identityJobs = max(0, identityJobs)
        options.reference = !skipReference
        options.scaling = scaling
        let benchmark = Benchmark(options: options, migrator: try connection.migrator(), logger: logger)
        try await CheckedDatabase.withScratchDatabase("syncledger_bench", connection, logger: logger) { url in
            try await benchmark.run(url: url) { Console.print($0) }
        }
    }
}
