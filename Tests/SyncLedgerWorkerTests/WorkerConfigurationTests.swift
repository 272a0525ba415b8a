import Foundation
import SyncLedgerPostgres
import SyncLedgerTestSupport
import SyncLedgerWorker
import Testing

/// `syncledger worker` refuses invalid settings at start with a message naming
/// the option, whether they come from a flag or from the environment, and
/// flags win over the environment.
@Suite("Worker configuration")
struct WorkerConfigurationTests {
    struct Run {
        var status: Int32
        var stderr: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = WorkerProcess.binary
        process.arguments = ["worker"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none?sslmode=disable"
        for key in env.keys where key.hasPrefix("SYNCLEDGER_") { env[key] = nil }
        env.merge(environment) { _, new in new }
        process.environment = env
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stderr: String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: [
        (["--concurrency", "0"], [String: String](), "--concurrency must be a positive integer"),
        ([], ["SYNCLEDGER_CONCURRENCY": "lots"], "SYNCLEDGER_CONCURRENCY must be a positive integer (--concurrency), got 'lots'"),
        ([], ["SYNCLEDGER_LEASE_SECONDS": "-5"], "SYNCLEDGER_LEASE_SECONDS must be a positive integer (--lease-seconds)"),
        (["--lease-seconds", "2"], [:], "--lease-seconds must be at least 3"),
        ([], ["SYNCLEDGER_POLL_INTERVAL_SECONDS": "0"], "SYNCLEDGER_POLL_INTERVAL_SECONDS must be a positive integer"),
        ([], ["SYNCLEDGER_MAX_ATTEMPTS": "x"], "SYNCLEDGER_MAX_ATTEMPTS must be a positive integer (--max-attempts)"),
        ([], ["SYNCLEDGER_METRICS_PORT": "70000"], "--metrics-port must be at most 65535"),
        (["--retention", "a month"], [:], "--retention must be an age such as 30d, 12h or 1d12h, got 'a month'"),
        ([], ["SYNCLEDGER_RETENTION": "30"], "SYNCLEDGER_RETENTION must be an age such as 30d"),
        ([], ["DATABASE_URL": "mysql://x"], "DATABASE_URL must look like postgres://"),
        ([], ["DATABASE_URL": "postgres://u@h/db?sslmode=sometimes"], "sslmode 'sometimes' is not one of"),
        ([], ["SYNCLEDGER_LISTEN": "maybe"], "SYNCLEDGER_LISTEN must be on or off (--no-listen), got 'maybe'"),
        ([], ["SYNCLEDGER_TRANSACTION_POOLER": "2"], "SYNCLEDGER_TRANSACTION_POOLER must be on or off (--transaction-pooler)"),
        ([], ["SYNCLEDGER_STATEMENT_TIMEOUT_SECONDS": "0"], "SYNCLEDGER_STATEMENT_TIMEOUT_SECONDS must be a positive integer"),
        (["--watchdog-seconds", "30", "--statement-timeout-seconds", "60"], [:],
         "--watchdog-seconds must be longer than --statement-timeout-seconds plus 5 s"),
    ])
    func invalidSettingIsRefusedNamingTheOption(arguments: [String], environment: [String: String], message: String) throws {
        let result = try run(arguments, environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test func flagWinsOverTheEnvironment() async throws {
        // The environment says 0 (invalid), the flag says 3: the flag is used,
        // the worker starts, finds nothing to do and exits 0.
        try await TestDatabase.with { db in
            let url = "postgres://\(db.url.username)@\(db.url.host):\(db.url.port)/\(db.url.database ?? "")?sslmode=disable"
            let result = try run(
                ["--concurrency", "3", "--exit-when-idle"], environment: ["DATABASE_URL": url, "SYNCLEDGER_CONCURRENCY": "0"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("concurrency=3"), "stderr: \(result.stderr)")
        }
    }
}
