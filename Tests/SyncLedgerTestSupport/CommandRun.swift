import Foundation
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of the `syncledger` binary as a user would type it, with a bound
/// on how long it may take: the bound only catches a hang (the process is
/// killed and the run reports `timedOut`), it is not a timing assertion.
package struct CommandRun: Sendable, CustomStringConvertible {
    /// Exit status; nil when the process had to be killed after the bound.
    package var status: Int32?
    package var stdout: String
    package var stderr: String

    package var timedOut: Bool { status == nil }

    package var description: String {
        "status: \(status.map(String.init) ?? "killed after the bound")\nstdout:\n\(stdout.suffix(3000))\nstderr:\n\(stderr.suffix(3000))"
    }

    /// Runs `syncledger ARGUMENTS` with `environment` on top of this
    /// process's environment (minus `DATABASE_URL` and `SYNCLEDGER_*`).
    package static func run(
        _ arguments: [String], environment: [String: String] = [:], bound: Duration = .seconds(60)
    ) async throws -> CommandRun {
        try await run(executable: WorkerProcess.binary, arguments, environment: environment, bound: bound)
    }

    /// Runs `executable ARGUMENTS` (in `directory`, if given) the same way:
    /// `environment` on top of this process's environment minus
    /// `DATABASE_URL` and `SYNCLEDGER_*`, killed after `bound`.
    package static func run(
        executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
        bound: Duration = .seconds(60)
    ) async throws -> CommandRun {
        let temporary = FileManager.default.temporaryDirectory
        let out = temporary.appendingPathComponent("syncledger-out-\(UUID().uuidString)")
        let err = temporary.appendingPathComponent("syncledger-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            // Dies with the test process, even a killed one.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--pdeathsig", "KILL", "--", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = nil
        for key in env.keys where key.hasPrefix("SYNCLEDGER_") { env[key] = nil }
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try SpawnThread.run { [process] in try process.run() }

        let deadline = ContinuousClock.now + bound
        var status: Int32?
        while true {
            if !process.isRunning {
                process.waitUntilExit()
                status = process.terminationStatus
                break
            }
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        return CommandRun(
            status: status, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// `url` as a `DATABASE_URL` value (with the password, unlike `description`).
    package static func databaseURL(_ url: DatabaseURL, password: String? = nil, sslMode: String = "disable") -> String {
        let user = url.username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? url.username
        let secret = (password ?? url.password).map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? ""
        return "postgres://\(user)\(secret)@\(url.host):\(url.port)/\(url.database ?? "")?sslmode=\(sslMode)"
    }
}
