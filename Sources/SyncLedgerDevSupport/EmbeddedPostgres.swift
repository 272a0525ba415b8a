import Foundation
import Logging
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A throwaway PostgreSQL cluster for the demo, the benchmark and the tests,
/// used when no `DATABASE_URL` is given.
///
/// It runs `initdb` in a fresh temporary directory, starts the server on a free
/// port listening on 127.0.0.1 only, and removes everything again on ``stop()``.
/// A small supervisor shell process owns the server: it stops the cluster and
/// deletes its directory when told to, on SIGINT/SIGTERM/SIGHUP (Ctrl-C), and
/// when this process dies without stopping it (even by SIGKILL), so no server
/// and no directory is ever left behind. PostgreSQL refuses to run as root; as
/// root, the server runs as the `postgres` user.
public final class EmbeddedPostgres: Sendable {
    /// Why the cluster could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The cluster's URL (user `postgres`, trust authentication, loopback only).
    public let url: DatabaseURL
    private let supervisor: Process
    private let baseDirectory: URL
    private let restartCommand: [String]
    private let stopCommand: [String]
    private let startCommand: [String]

    /// Starts a cluster. Throws a ``StartError`` that says what to install when
    /// no PostgreSQL server binaries are found.
    ///
    /// `hbaRules` are `pg_hba.conf` lines put before the default ones (which
    /// trust every local connection), e.g. `host all some_role 127.0.0.1/32
    /// scram-sha-256` to make one role authenticate with a password.
    public static func start(logger: Logger, hbaRules: [String] = []) async throws -> EmbeddedPostgres {
        let binaries = try findBinaries()
        let runAsPostgres = getuid() == 0
        let base = try makeBaseDirectory(ownedByPostgres: runAsPostgres)
        let data = base.appendingPathComponent("data")
        let log = base.appendingPathComponent("server.log")

        func asServerUser(_ arguments: [String]) -> [String] {
            runAsPostgres ? ["runuser", "-u", "postgres", "--"] + arguments : arguments
        }

        let initdb = asServerUser([
            binaries.appendingPathComponent("initdb").path, "-D", data.path, "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        ])
        let (status, output) = try run(initdb)
        guard status == 0 else {
            try? FileManager.default.removeItem(at: base)
            throw StartError(description: "initdb failed (\(status)): \(output)")
        }
        if !hbaRules.isEmpty {
            // Written in place, so the file keeps its owner (the server user).
            let hba = data.appendingPathComponent("pg_hba.conf")
            let defaults = try String(contentsOf: hba, encoding: .utf8)
            let handle = try FileHandle(forWritingTo: hba)
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data((hbaRules.joined(separator: "\n") + "\n" + defaults).utf8))
            try handle.close()
        }

        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            // Throwaway settings: no durability needed; room for the test suite,
            // which runs many databases and worker pools at once.
            let options = [
                "-p \(port)", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories='\(base.path)'",
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=1000",
                "-c shared_buffers=256MB", "-c max_wal_size=2GB", "-c log_min_messages=warning",
            ].joined(separator: " ")
            let pgctl = binaries.appendingPathComponent("pg_ctl").path
            let start = asServerUser([pgctl, "-D", data.path, "-l", log.path, "-o", options, "-w", "-t", "60", "start"])
            let stop = asServerUser([pgctl, "-D", data.path, "-m", "fast", "-w", "-t", "60", "stop"])
            let restart = asServerUser([pgctl, "-D", data.path, "-l", log.path, "-m", "fast", "-w", "-t", "60", "restart"])
            let startAgain = asServerUser([pgctl, "-D", data.path, "-l", log.path, "-o", options, "-w", "-t", "60", "start"])
            // The supervisor: start, report, then wait for a signal or for our death.
            let script = """
                set -u
                base=\(shellQuote(base.path)); parent=\(getpid())
                cleanup() { \(stop.map(shellQuote).joined(separator: " ")) >/dev/null 2>&1; rm -rf "$base"; exit 0; }
                if ! \(start.map(shellQuote).joined(separator: " ")) >/dev/null 2>&1; then echo failed; exit 1; fi
                trap cleanup TERM INT HUP
                echo ready
                while [ -d "/proc/$parent" ]; do sleep 0.5 & wait $!; done
                cleanup
                """
            let supervisor = Process()
            supervisor.executableURL = URL(fileURLWithPath: "/bin/sh")
            supervisor.arguments = ["-c", script]
            let pipe = Pipe()
            supervisor.standardOutput = pipe
            supervisor.standardError = FileHandle.nullDevice
            try supervisor.run()
            let line = await readLine(pipe.fileHandleForReading)
            if line == "ready" {
                let postgres = EmbeddedPostgres(
                    url: DatabaseURL(host: "127.0.0.1", port: port, username: "postgres", database: "postgres"),
                    supervisor: supervisor, baseDirectory: base, restartCommand: restart, stopCommand: stop, startCommand: startAgain)
                Registry.add(postgres)
                logger.info("started embedded PostgreSQL", metadata: ["port": "\(port)", "directory": "\(base.path)"])
                return postgres
            }
            supervisor.waitUntilExit()
            lastError = (try? String(contentsOf: log, encoding: .utf8)) ?? "no server log"
        }
        try? FileManager.default.removeItem(at: base)
        throw StartError(description: "PostgreSQL did not start: \(lastError.suffix(2000))")
    }

    private init(
        url: DatabaseURL, supervisor: Process, baseDirectory: URL, restartCommand: [String], stopCommand: [String], startCommand: [String]
    ) {
        self.url = url
        self.supervisor = supervisor
        self.baseDirectory = baseDirectory
        self.restartCommand = restartCommand
        self.stopCommand = stopCommand
        self.startCommand = startCommand
    }

    /// Stops the server (fast shutdown) and keeps its data, as an outage for
    /// tests; ``startServer()`` brings it back on the same port.
    public func stopServer() throws {
        let status = try Self.spawnAndWait(stopCommand)
        guard status == 0 else {
            throw StartError(description: "pg_ctl stop failed (\(status)); see \(baseDirectory.path)/server.log")
        }
    }

    /// Starts the server again after ``stopServer()``.
    public func startServer() throws {
        let status = try Self.spawnAndWait(startCommand)
        guard status == 0 else {
            throw StartError(description: "pg_ctl start failed (\(status)); see \(baseDirectory.path)/server.log")
        }
    }

    /// Restarts the server, as a fault for tests of reconnection: with a fast
    /// shutdown (every connection is dropped, transactions roll back) or, if
    /// `immediate`, as after a crash (every server process killed at once,
    /// crash recovery at start). Same port, same settings.
    public func restart(immediate: Bool = false) throws {
        // Output goes to /dev/null (the server logs to its file): the restarted
        // server would inherit a pipe and keep it open for as long as it runs.
        let command = immediate ? restartCommand.map { $0 == "fast" ? "immediate" : $0 } : restartCommand
        let status = try Self.spawnAndWait(command)
        guard status == 0 else {
            throw StartError(description: "pg_ctl restart failed (\(status)); see \(baseDirectory.path)/server.log")
        }
    }

    /// Stops the server and deletes its directory; waits until both are done.
    public func stop() {
        if supervisor.isRunning {
            kill(supervisor.processIdentifier, SIGTERM)
            supervisor.waitUntilExit()
        }
        Registry.remove(self)
    }

    /// Runs `body` against a throwaway cluster, stopping it afterwards whether
    /// `body` returns or throws.
    public static func withCluster<T: Sendable>(logger: Logger, _ body: (DatabaseURL) async throws -> T) async throws -> T {
        let postgres = try await start(logger: logger)
        do {
            let result = try await body(postgres.url)
            postgres.stop()
            return result
        } catch {
            postgres.stop()
            throw error
        }
    }

    // MARK: - Finding binaries

    package static func findBinaries() throws -> URL {
        let fileManager = FileManager.default
        var directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            directories.append(URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin"))
        }
        for directory in directories
        where fileManager.isExecutableFile(atPath: directory.appendingPathComponent("initdb").path)
            && fileManager.isExecutableFile(atPath: directory.appendingPathComponent("pg_ctl").path)
        {
            return directory
        }
        throw StartError(
            description: """
                no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin. \
                Install the server package (Debian/Ubuntu: apt-get install postgresql-15; Fedora: dnf install postgresql-server), \
                or set DATABASE_URL to use an existing server.
                """)
    }

    // MARK: - Helpers

    private static func makeBaseDirectory(ownedByPostgres: Bool) throws -> URL {
        var template = Array("/tmp/syncledger-pg-XXXXXX".utf8CString)
        guard let pointer = mkdtemp(&template) else { throw StartError(description: "cannot create a temporary directory") }
        let base = URL(fileURLWithPath: String(cString: pointer))
        if ownedByPostgres {
            guard let user = getpwnam("postgres") else {
                throw StartError(description: "running as root needs a 'postgres' user to run the server (it is created by the postgresql package)")
            }
            chown(base.path, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        return base
    }

    private static func freePort() throws -> Int {
        do {
            return try LoopbackPort.unused()
        } catch let unavailable as LoopbackPort.Unavailable {
            throw StartError(description: unavailable.description)
        }
    }

    private static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a command with standard streams on /dev/null and waits for it.
    private static func spawnAndWait(_ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw StartError(description: "cannot run \(arguments[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    private static func readLine(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let data = handle.readData(ofLength: 1)
                    guard let byte = data.first, byte != UInt8(ascii: "\n") else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    private static func shellQuote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Clusters still running at process exit are stopped by an `atexit`
    /// handler (the supervisor would notice our death anyway, a moment later).
    private enum Registry {
        nonisolated(unsafe) static var running: [ObjectIdentifier: EmbeddedPostgres] = [:]
        static let lock = NSLock()
        nonisolated(unsafe) static var installed = false

        static func add(_ postgres: EmbeddedPostgres) {
            lock.lock()
            defer { lock.unlock() }
            running[ObjectIdentifier(postgres)] = postgres
            if !installed {
                installed = true
                atexit {
                    EmbeddedPostgres.Registry.lock.lock()
                    let all = Array(EmbeddedPostgres.Registry.running.values)
                    EmbeddedPostgres.Registry.lock.unlock()
                    for postgres in all { postgres.stop() }
                }
            }
        }

        static func remove(_ postgres: EmbeddedPostgres) {
            lock.lock()
            defer { lock.unlock() }
            running[ObjectIdentifier(postgres)] = nil
        }
    }
}
