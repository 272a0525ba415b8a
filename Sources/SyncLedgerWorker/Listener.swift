import Foundation
import Logging
import PostgresNIO
import Synchronization
import SyncLedgerPostgres

/// LISTEN on one connection, with a check that notifications arrive.
///
/// A LISTEN connection that died without a word (a half-open TCP connection)
/// or that sits behind a transaction pooler (PgBouncer in transaction mode,
/// where notifications go to whichever client the server connection serves
/// next) receives nothing and reports no error. So the listener notifies
/// itself on the same channel every ``probeInterval``, through the pool, and
/// expects to hear it within ``probeTimeout``; if it does not, ``run`` throws
/// ``Deaf``. Payloads of probes start with ``probePrefix``; listeners ring
/// the doorbell for every other notification only.
struct Listener: Sendable {
    static let probePrefix = "probe:"
    let channel: String
    /// Bound of the query that sends a probe.
    let deadline: Duration
    var probeInterval: Duration = .seconds(30)
    var probeTimeout: Duration = .seconds(5)

    /// A probe did not arrive; `heardBefore` if an earlier one did on this connection.
    struct Deaf: Error, CustomStringConvertible {
        var heardBefore: Bool
        var description: String {
            heardBefore
                ? "the LISTEN connection stopped delivering notifications (a dead connection)"
                : "no notification arrived on the LISTEN connection"
        }
    }

    /// Probes that arrived on one connection.
    final class Arrivals: Sendable {
        private let state = Mutex((probes: Set<String>(), heardAny: false))

        var heardAny: Bool { state.withLock { $0.heardAny } }

        func insert(_ payload: String) {
            state.withLock {
                $0.probes.insert(payload)
                $0.heardAny = true
            }
        }

        /// True once `probe` arrived, false after `timeout`.
        func wait(for probe: String, timeout: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if state.withLock({ $0.probes.remove(probe) != nil }) { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return state.withLock { $0.probes.remove(probe) != nil }
        }
    }

    /// Listens on `connection` until it fails or a probe is not heard:
    /// `notified` for every job notification (and once at the start, for what
    /// was submitted while nobody listened), `heard` for every probe heard.
    func run(
        on connection: PostgresConnection, client: PostgresClient, arrivals: Arrivals, logger: Logger,
        heard: @escaping @Sendable () -> Void, notified: @escaping @Sendable () -> Void
    ) async throws {
        try await connection.listen(on: channel) { notifications in
            notified()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications {
                        if notification.payload.hasPrefix(Self.probePrefix) {
                            arrivals.insert(notification.payload)
                        } else {
                            notified()
                        }
                    }
                    throw ConnectionClosed()
                }
                group.addTask {
                    while true {
                        let probe = Self.probePrefix + UUID().uuidString
                        try await QueryDeadline.$limit.withValue(deadline) {
                            try await client.run("SELECT pg_notify(\(channel), \(probe))", logger: logger)
                        }
                        guard try await arrivals.wait(for: probe, timeout: probeTimeout) else {
                            let _: EventLoopFuture<Void> = connection.close()  // ends the notification sequence
                            throw Deaf(heardBefore: arrivals.heardAny)
                        }
                        heard()
                        try await Task.sleep(for: probeInterval)
                    }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}
