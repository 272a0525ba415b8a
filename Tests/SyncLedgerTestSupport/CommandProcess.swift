import Foundation
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// The built `syncledger` binary run as a separate process against a test
/// database, with standard input a pipe the test writes (and may keep open),
/// and standard output and error captured in files (no pipe to fill up).
package final class CommandProcess: @unchecked Sendable {
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        /// Both streams, for failure messages.
        package var output: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    package let process = Process()
    private let input = Pipe()
    private let outFile: URL
    private let errFile: URL

    /// Starts `syncledger arguments...` with `DATABASE_URL` set to `url`.
    package init(_ arguments: [String], url: DatabaseURL) throws {
        // Writing to the pipe of a process that died must fail, not kill the tests.
        signal(SIGPIPE, SIG_IGN)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("syncledger-cmd-\(UUID().uuidString)")
        outFile = base.appendingPathExtension("out")
        errFile = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.executableURL = WorkerProcess.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        let credentials = url.password.map { "\(url.username):\($0)" } ?? url.username
        environment["DATABASE_URL"] = "postgres://\(credentials)@\(url.host):\(url.port)/\(url.database ?? "")?sslmode=disable"
        environment.removeValue(forKey: "SYNCLEDGER_LOG_LEVEL")
        process.environment = environment
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try SpawnThread.run { [process] in try process.run() }
    }

    /// Runs to the end with `stdin` as its standard input.
    package static func run(_ arguments: [String], url: DatabaseURL, stdin: String = "") async throws -> Result {
        let command = try CommandProcess(arguments, url: url)
        command.write(stdin)
        command.closeInput()
        return await command.finish()
    }

    package func write(_ text: String) {
        guard !text.isEmpty else { return }
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    package func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    package func kill(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit (at most two minutes; then it is killed).
    package func finish() async -> Result {
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning {
            if ContinuousClock.now > deadline { kill() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        closeInput()
        let stdout = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    deinit {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }
}
