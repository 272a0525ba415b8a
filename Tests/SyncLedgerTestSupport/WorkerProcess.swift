import Foundation
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// A `syncledger worker` running as a separate process, for tests of crashes,
/// restarts and signals.
package final class WorkerProcess: @unchecked Sendable {
    package let id: String
    package let process = Process()
    package let logFile: URL

    /// The `syncledger` binary built beside the test bundle.
    package static var binary: URL {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("syncledger")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return directory.appendingPathComponent("syncledger")
    }

    /// `environment` is added to (and overrides) the test process's, after
    /// `DATABASE_URL` and `SYNCLEDGER_LOG_LEVEL=info`.
    package init(id: String, url: DatabaseURL, arguments: [String], environment extra: [String: String] = [:]) throws {
        self.id = id
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("syncledger-\(id)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        // setpriv makes the worker die with the test process, even a killed one.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--pdeathsig", "KILL", "--", Self.binary.path, "worker", "--worker-id", id] + arguments
        } else {
            process.executableURL = Self.binary
            process.arguments = ["worker", "--worker-id", id] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgres://\(url.username)@\(url.host):\(url.port)/\(url.database ?? "")?sslmode=disable"
        environment["SYNCLEDGER_LOG_LEVEL"] = "info"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try SpawnThread.run { [process] in try process.run() }
    }

    package var isRunning: Bool { process.isRunning }

    package func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit; returns its status, or nil on timeout.
    package func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    package var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if ProcessInfo.processInfo.environment["SYNCLEDGER_KEEP_WORKER_LOGS"] == nil { try? FileManager.default.removeItem(at: logFile) }
    }
}
