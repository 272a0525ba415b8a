import Logging
import PostgresNIO
import Synchronization

/// Applies ``SessionSettings`` that are not startup parameters
/// (``SessionSettings/Delivery/afterConnecting``,
/// ``SessionSettings/Delivery/perTransaction``) to the connections the current
/// task uses: bound as ``current`` around a worker's engine, it is consulted
/// by `withOpenConnection` (each new connection gets one statement that sets
/// every setting, before its first use) and by `transaction` (each
/// transaction begins with `SET LOCAL` of the transaction-scoped ones).
///
/// A connection counts as set up from its first use until it closes, so a
/// pool's connections cost one statement each in their whole life.
public final class SessionSetup: Sendable {
    /// The setup of the task's connections; nil: startup parameters or none.
    @TaskLocal public static var current: SessionSetup?

    public let settings: SessionSettings
    private let logger: Logger
    /// Connections set up and still open.
    private let prepared = Mutex(Set<ObjectIdentifier>())

    public init(settings: SessionSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The statement that begins each transaction, behind a transaction pooler.
    package var transactionStatement: PostgresQuery? {
        settings.delivery == .perTransaction ? settings.transactionStatement : nil
    }

    /// Sets the session settings on `connection` unless done before
    /// (``SessionSettings/Delivery/afterConnecting`` only).
    package func prepare(_ connection: PostgresConnection) async throws {
        guard settings.delivery == .afterConnecting else { return }
        let id = ObjectIdentifier(connection)
        guard prepared.withLock({ $0.insert(id).inserted }) else { return }
        connection.closeFuture.whenComplete { [self] _ in forget(id) }
        do {
            try await connection.run(settings.sessionStatement, logger: logger)
        } catch {
            forget(id)
            throw error
        }
    }

    /// How many connections are set up now (for tests).
    package var preparedConnections: Int { prepared.withLock { $0.count } }

    private func forget(_ id: ObjectIdentifier) { _ = prepared.withLock { $0.remove(id) } }
}
