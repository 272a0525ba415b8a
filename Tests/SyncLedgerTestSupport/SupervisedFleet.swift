import Foundation
import Synchronization
import SyncLedgerPostgres
import SyncLedgerWorker

#if canImport(Glibc)
    import Glibc
#endif

/// Worker processes kept running the way the systemd unit keeps them
/// (`Restart=always`): one that exits, for whatever reason, is started again
/// a moment later under the same worker id.
package final class SupervisedFleet: Sendable {
    package struct Exit: Sendable, CustomStringConvertible {
        package var id: String
        package var status: Int32
        package var description: String { "\(id): \(status)" }
    }

    private struct State {
        package var current: [String: WorkerProcess] = [:]
        package var all: [WorkerProcess] = []
        package var exits: [Exit] = []
    }

    private let ids: [String]
    private let url: DatabaseURL
    private let arguments: [String]
    private let state = Mutex(State())

    package init(ids: [String], url: DatabaseURL, arguments: [String]) {
        self.ids = ids
        self.url = url
        self.arguments = arguments
    }

    /// Every exit seen so far (the process was started again after each).
    package var exits: [Exit] { state.withLock { $0.exits } }

    /// The logs of every process ever started, one after the other.
    package var logs: String { state.withLock { $0.all.map { "== \($0.id)\n\($0.log)" }.joined(separator: "\n") } }

    /// Starts the workers and restarts any that exits, until cancelled.
    package func supervise() async throws {
        for id in ids { try launch(id) }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            if Task.isCancelled { break }
            for id in ids {
                let exited = state.withLock { state -> Int32? in
                    guard let process = state.current[id], !process.isRunning else { return nil }
                    let status = process.process.terminationStatus
                    state.exits.append(Exit(id: id, status: status))
                    return status
                }
                if exited != nil { try launch(id) }
            }
        }
    }

    /// SIGKILL to the current process of `id`.
    package func kill(_ id: String) {
        signal(id, SIGKILL)
    }

    /// `signal` to the current process of `id` (SIGSTOP freezes it where it is).
    package func signal(_ id: String, _ signal: Int32) {
        state.withLock { $0.current[id] }?.signal(signal)
    }

    /// SIGTERM to every current process; their exit statuses (nil: still running after 30 s).
    package func stop() async -> [(String, Int32?)] {
        let current = state.withLock { $0.current }
        for process in current.values { process.signal(SIGTERM) }
        var statuses: [(String, Int32?)] = []
        for (id, process) in current.sorted(by: { $0.key < $1.key }) {
            statuses.append((id, await process.waitForExit(timeout: .seconds(30))))
        }
        return statuses
    }

    private func launch(_ id: String) throws {
        let process = try WorkerProcess(id: id, url: url, arguments: arguments)
        state.withLock {
            $0.current[id] = process
            $0.all.append(process)
        }
    }
}
