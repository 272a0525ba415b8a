import Logging
import PostgresNIO
import Synchronization
import SyncLedgerPostgres

/// The worker's configuration snapshot, loaded once and reloaded only when a
/// chunk transaction finds that `integration.config_version` moved
/// (``ConfigurationChanged``). Slots that find it at the same time may each
/// load it (a few small queries); the newest version wins.
final class ConfigurationCache: Sendable {
    private let client: PostgresClient
    private let deadline: Duration
    private let logger: Logger
    private let snapshot = Mutex<ConfigurationSnapshot?>(nil)

    init(client: PostgresClient, deadline: Duration = WorkerSettings().shortQueryDeadline, logger: Logger) {
        self.client = client
        self.deadline = deadline
        self.logger = logger
    }

    /// The cached snapshot, loading it the first time.
    func current() async throws -> ConfigurationSnapshot {
        if let cached = snapshot.withLock({ $0 }) { return cached }
        return try await reload()
    }

    /// A snapshot newer than `stale` (the version a chunk was refused with):
    /// the cached one if another slot already reloaded, else a fresh load.
    func reload(after stale: Int64? = nil) async throws -> ConfigurationSnapshot {
        if let stale, let cached = snapshot.withLock({ $0 }), cached.version > stale { return cached }
        let loaded = try await QueryDeadline.$limit.withValue(deadline) {
            try await client.withOpenConnection { try await ConfigurationSnapshot.load(on: $0, logger: logger) }
        }
        return snapshot.withLock { current in
            if let newer = current, newer.version > loaded.version { return newer }
            current = loaded
            return loaded
        }
    }

    /// Forgets the snapshot (after an error that may come from a changed
    /// catalogue, such as a dropped column), so the next claim loads it anew.
    func invalidate() {
        snapshot.withLock { $0 = nil }
    }
}
