import PostgresNIO

/// Bounds on the worker's database sessions, so that a dead or frozen peer
/// releases its locks and a dead connection fails its query within seconds.
///
/// | server setting                        | default | what it bounds |
/// |---------------------------------------|---------|----------------|
/// | `statement_timeout`                   | 60 s    | one statement (a chunk's `prepare_chunk` or `apply_chunk`) |
/// | `lock_timeout`                        | 20 s    | one wait for a row lock (another chunk holding a record) |
/// | `idle_in_transaction_session_timeout` | 15 s, at most ⅔ of the lease | a frozen worker (SIGSTOP, a stalled host) inside a chunk transaction: the server ends its session and its locks go before its lease ends |
/// | `tcp_keepalives_idle/interval/count`  | 10 s, 5 s, 3 | how soon the server notices a worker host that vanished while its session was idle |
/// | `tcp_user_timeout`                    | 25 s, at most the lease | how long data the server sent may stay unacknowledged: a backend blocked writing a result to a half-open connection (where neither a keep-alive nor `statement_timeout` acts) gives its session, and its locks, up |
/// | `client_connection_check_interval`    | 5 s     | how soon the server abandons a statement (or a lock wait) whose client is gone |
///
/// The client side of the same bound is ``QueryDeadline``: a query not
/// answered in time closes its connection.
///
/// How they reach the server is ``delivery``: as startup parameters of each
/// connection (a direct connection: in force from its first statement, at no
/// cost), with one statement on each new connection (a pooler such as
/// PgBouncer, which refuses startup parameters it does not know), or, behind
/// a transaction pooler whose server sessions are shared, the
/// transaction-scoped ones with `SET LOCAL` at the start of each transaction.
public struct SessionSettings: Sendable, Equatable {
    public var statementTimeout: Duration = .seconds(60)
    public var lockTimeout: Duration = .seconds(20)
    public var idleInTransactionTimeout: Duration = .seconds(15)
    public var keepalivesIdle: Duration = .seconds(10)
    public var keepalivesInterval: Duration = .seconds(5)
    public var keepalivesCount: Int = 3
    /// `tcp_user_timeout` (PostgreSQL 12 and later).
    public var tcpUserTimeout: Duration = .seconds(25)
    public var connectionCheckInterval: Duration = .seconds(5)
    /// How the settings reach the server.
    public var delivery: Delivery = .startupParameters

    /// How session settings reach the server.
    public enum Delivery: Sendable, Equatable {
        /// Startup parameters of every connection (a direct connection to
        /// PostgreSQL): in force from the first statement, at no cost.
        case startupParameters
        /// One statement (`SELECT set_config(...)`) on each new connection
        /// before its first use: what a pooler that refuses unknown startup
        /// parameters accepts (PgBouncer in session mode, where it is the
        /// same as startup parameters). See ``SessionSetup``.
        case afterConnecting
        /// Behind a transaction pooler (server sessions shared between
        /// clients): nothing per connection; `statement_timeout`,
        /// `lock_timeout` and `idle_in_transaction_session_timeout` with
        /// `SET LOCAL` at the start of each transaction the worker opens.
        case perTransaction
        /// None: interactive commands, migrations, scrapes.
        case none
    }

    public init() {}

    /// Only the application name: interactive commands, migrations.
    public static var unbounded: SessionSettings {
        var settings = SessionSettings()
        settings.delivery = .none
        return settings
    }

    /// The server settings and their values, as `SET` takes them.
    public var serverSettings: [(name: String, value: String)] {
        [
            ("statement_timeout", Self.milliseconds(statementTimeout)),
            ("lock_timeout", Self.milliseconds(lockTimeout)),
            ("idle_in_transaction_session_timeout", Self.milliseconds(idleInTransactionTimeout)),
            ("tcp_keepalives_idle", Self.seconds(keepalivesIdle)),
            ("tcp_keepalives_interval", Self.seconds(keepalivesInterval)),
            ("tcp_keepalives_count", "\(keepalivesCount)"),
            ("tcp_user_timeout", Self.milliseconds(tcpUserTimeout)),
            ("client_connection_check_interval", Self.milliseconds(connectionCheckInterval)),
        ]
    }

    /// The settings that bound one transaction, for `SET LOCAL` behind a
    /// transaction pooler.
    static let transactionScoped: Set<String> = ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"]

    /// The startup parameters for a connection named `applicationName`.
    public func startupParameters(applicationName: String) -> [(String, String)] {
        var parameters = [("application_name", Self.serverName(applicationName))]
        guard delivery == .startupParameters else { return parameters }
        parameters += serverSettings.map { ($0.name, $0.value) }
        return parameters
    }

    /// One statement that sets every server setting for the session
    /// (``Delivery/afterConnecting``).
    public var sessionStatement: PostgresQuery { Self.setConfig(serverSettings, local: false) }

    /// One statement that sets the transaction-scoped settings for the
    /// current transaction only (``Delivery/perTransaction``).
    public var transactionStatement: PostgresQuery {
        Self.setConfig(serverSettings.filter { Self.transactionScoped.contains($0.name) }, local: true)
    }

    private static func setConfig(_ settings: [(name: String, value: String)], local: Bool) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: settings.count * 2)
        var calls: [String] = []
        for (index, setting) in settings.enumerated() {
            bindings.append(setting.name)
            bindings.append(setting.value)
            calls.append("set_config($\(index * 2 + 1), $\(index * 2 + 2), \(local))")
        }
        return PostgresQuery(unsafeSQL: "SELECT " + calls.joined(separator: ", "), binds: bindings)
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

    static func milliseconds(_ duration: Duration) -> String {
        "\(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)ms"
    }

    private static func seconds(_ duration: Duration) -> String { "\(max(1, duration.components.seconds))" }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
