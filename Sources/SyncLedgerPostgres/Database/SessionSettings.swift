/// Bounds on the worker's database sessions, so that a dead or frozen peer
/// releases its locks and a dead connection fails its query within seconds.
///
/// They are sent as startup parameters, so they hold from the first statement
/// of every connection, pooled or not:
///
/// | server setting                        | default | what it bounds |
/// |---------------------------------------|---------|----------------|
/// | `statement_timeout`                   | 60 s    | one statement (a chunk's `prepare_chunk` or `apply_chunk`) |
/// | `lock_timeout`                        | 20 s    | one wait for a row lock (another chunk holding a record) |
/// | `idle_in_transaction_session_timeout` | 15 s    | a frozen worker (SIGSTOP, a stalled host) inside a chunk transaction: the server ends its session and its locks go |
/// | `tcp_keepalives_idle/interval/count`  | 10 s, 5 s, 3 | how soon the server notices a worker host that vanished |
/// | `client_connection_check_interval`    | 5 s     | how soon the server abandons a statement (or a lock wait) whose client is gone |
///
/// The client side of the same bound is ``QueryDeadline``: a query not
/// answered in time closes its connection.
///
/// A transaction pooler (PgBouncer in transaction mode) refuses startup
/// parameters it does not know; there, ``sendToServer`` is false and the
/// operator sets the same values on the worker's login role
/// (`ALTER ROLE ... SET statement_timeout = '60s'`, see deploy/README.md).
public struct SessionSettings: Sendable, Equatable {
    public var statementTimeout: Duration = .seconds(60)
    public var lockTimeout: Duration = .seconds(20)
    public var idleInTransactionTimeout: Duration = .seconds(15)
    public var keepalivesIdle: Duration = .seconds(10)
    public var keepalivesInterval: Duration = .seconds(5)
    public var keepalivesCount: Int = 3
    public var connectionCheckInterval: Duration = .seconds(5)
    /// False behind a transaction pooler, which refuses these as startup parameters.
    public var sendToServer = true

    public init() {}

    /// Only the application name: interactive commands, migrations.
    public static var unbounded: SessionSettings {
        var settings = SessionSettings()
        settings.sendToServer = false
        return settings
    }

    /// The startup parameters for a connection named `applicationName`.
    public func startupParameters(applicationName: String) -> [(String, String)] {
        var parameters = [("application_name", Self.serverName(applicationName))]
        guard sendToServer else { return parameters }
        parameters += [
            ("statement_timeout", Self.milliseconds(statementTimeout)),
            ("lock_timeout", Self.milliseconds(lockTimeout)),
            ("idle_in_transaction_session_timeout", Self.milliseconds(idleInTransactionTimeout)),
            ("tcp_keepalives_idle", Self.seconds(keepalivesIdle)),
            ("tcp_keepalives_interval", Self.seconds(keepalivesInterval)),
            ("tcp_keepalives_count", "\(keepalivesCount)"),
            ("client_connection_check_interval", Self.milliseconds(connectionCheckInterval)),
        ]
        return parameters
    }

    /// `applicationName` as sent to the server, which keeps 63 bytes. A
    /// longer name is cut and ends in `~` and a hash of the whole name, so
    /// two names that differ only past the cut (a long host name and an
    /// instance number) stay apart: the worker ends its own sessions by this
    /// name after a forced stop, and must never end a sibling's.
    public static func serverName(_ applicationName: String) -> String {
        guard applicationName.utf8.count > 63 else { return applicationName }
        var hash: UInt32 = 2_166_136_261  // FNV-1a: stable across processes, unlike Hasher
        for byte in applicationName.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let suffix = "~" + String(hash, radix: 16).leftPadded(to: 8)
        var name = applicationName
        while name.utf8.count > 63 - suffix.utf8.count { name.removeLast() }
        return name + suffix
    }

    private static func milliseconds(_ duration: Duration) -> String {
        "\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)ms"
    }

    private static func seconds(_ duration: Duration) -> String { "\(max(1, duration.components.seconds))" }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
