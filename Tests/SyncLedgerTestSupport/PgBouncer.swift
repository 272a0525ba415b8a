import Foundation
import SyncLedgerDevSupport
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// A PgBouncer the tests start in front of a PostgreSQL server, with its
/// stock configuration: only what it needs to run here is set (the database
/// it forwards to, its port and files, trusting local clients, the pool
/// mode); everything else, notably `ignore_startup_parameters` (empty) and
/// the prepared-statement support (none in 1.18), is as it ships. The
/// Debian package `pgbouncer` provides the binary (`.ci/run` installs it);
/// without it, the tests that need one are skipped (``unavailableReason``).
package final class PgBouncer: @unchecked Sendable {
    package enum Mode: String, Sendable {
        case session, transaction
    }

    package let mode: Mode
    /// The server's URL, through PgBouncer.
    package let url: DatabaseURL
    private let process = Process()
    private let directory: URL

    /// The binary, if installed.
    package static var binary: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"]
            + path.split(separator: ":").map { "\($0)/pgbouncer" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why PgBouncer tests cannot run here, or nil when they can.
    package static var unavailableReason: String? {
        binary == nil ? "PgBouncer is not installed (apt-get install pgbouncer; .ci/run does): pooler tests skipped" : nil
    }

    /// Starts PgBouncer in `mode` in front of `server` (any database on it),
    /// and waits until it accepts connections.
    package init(mode: Mode, in server: DatabaseURL) async throws {
        guard let binary = Self.binary else { throw Unavailable(description: Self.unavailableReason ?? "no pgbouncer") }
        self.mode = mode
        let port = try LoopbackPort.unused()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncledger-pgbouncer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let user = server.username
        let configuration = """
            [databases]
            * = host=\(server.host) port=\(server.port)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = trust
            auth_file = \(directory.path)/userlist.txt
            pool_mode = \(mode.rawValue)
            logfile = \(directory.path)/pgbouncer.log
            pidfile = \(directory.path)/pgbouncer.pid
            """
        try configuration.write(to: directory.appendingPathComponent("pgbouncer.ini"), atomically: true, encoding: .utf8)
        try "\"\(user)\" \"\"\n".write(to: directory.appendingPathComponent("userlist.txt"), atomically: true, encoding: .utf8)

        // PgBouncer refuses to run as root: as the server's user then, which
        // must own its files. setpriv makes it die with the test process.
        var command = [binary, directory.appendingPathComponent("pgbouncer.ini").path]
        if getuid() == 0 {
            _ = try Self.run(["/bin/chown", "-R", "postgres", directory.path])
            command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            command = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] + command
        }
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try SpawnThread.run { [process] in try process.run() }

        var through = server
        through.host = "127.0.0.1"
        through.port = port
        url = through
        let deadline = ContinuousClock.now + .seconds(20)
        while !LoopbackSocket.accepts(port: port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw Unavailable(description: "PgBouncer did not start: \(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// PgBouncer's log.
    package var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("pgbouncer.log"), encoding: .utf8)) ?? ""
    }

    /// Stops PgBouncer and removes its files.
    package func stop() {
        if process.isRunning {
            process.interrupt()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    package struct Unavailable: Error, CustomStringConvertible {
        package var description: String
    }

    private static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
