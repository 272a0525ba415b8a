import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One look at the database before a command starts its connection pool: a
/// single connection attempt with a short timeout, and (when asked) a check
/// that the schema holds every migration this binary ships.
///
/// Why: the pool retries a failing connection for about a minute and then
/// reports `connectionCreationCircuitBreakerTripped`, with the real cause
/// only in its log. This check names the cause within seconds, in words, with
/// what to do about it, and says whether retrying can help (``Failure/isFatal``).
public enum ConnectionCheck {
    /// How long connecting (TCP, TLS, authentication) may take.
    public static let defaultConnectTimeout: Duration = .seconds(5)
    /// How long the schema query may take once connected.
    public static let queryTimeout: Duration = .seconds(10)

    /// What was found when the check passed.
    public struct Outcome: Sendable, Equatable {
        /// Migrations recorded in `integration.schema_migration`; empty when
        /// the schema was not checked or cannot be read by this role.
        public var appliedMigrations: [String] = []
        /// Recorded migrations this binary does not know: a newer schema, which is fine.
        public var newerMigrations: [String] = []
        /// False when the schema was not checked, or could not be compared
        /// (applied with psql rather than `syncledger migrate`, or the role may
        /// not read `integration.schema_migration`).
        public var schemaVerified = false
        /// The session setting the server refused as a startup parameter
        /// ("unsupported startup parameter": a pooler such as PgBouncer),
        /// when the check was asked to send them; the check then connected
        /// without them. Nil when they were accepted, or not sent.
        public var refusedStartupParameter: String?
    }

    /// Why the database cannot be used, with what to do about it.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Cause: Sendable, Equatable {
            /// Nothing listens at host:port (or no server socket at the path).
            case refused(host: String, port: Int)
            /// host:port cannot be reached: name resolution, routing, or a timeout.
            case unreachable(host: String, port: Int, reason: String)
            /// The server refused the user: wrong password, unknown role, pg_hba.conf, no CONNECT privilege.
            case authenticationFailed(user: String, reason: String)
            /// `sslmode` demands TLS and the server does not offer it.
            case tlsNotOffered(sslMode: String)
            /// The server accepts this user only over TLS and `sslmode` disabled it.
            case tlsRequiredByServer(sslMode: String)
            /// The TLS handshake failed: certificate not trusted, wrong host name, unreadable `sslrootcert`.
            case tlsFailed(sslMode: String, reason: String)
            /// The database named in the URL does not exist on the server.
            case databaseMissing(name: String)
            /// The database has no syncledger schema at all.
            case schemaMissing(database: String)
            /// The schema lacks migrations that this binary ships.
            case schemaOutdated(database: String, missing: [String])
            /// The server is starting, shutting down, or out of connection slots.
            case serverUnavailable(reason: String)
            /// The server does not know a session setting this client sends
            /// (e.g. `client_connection_check_interval` before PostgreSQL 14).
            case settingUnknown(reason: String)
            /// Connected, but the server refuses this role's statements for a
            /// reason no retry changes: a missing privilege or function
            /// (SQLSTATE class 42 or 28).
            case statementRefused(reason: String)
            /// Anything else (the connection dropped during start-up, ...).
            case other(reason: String)
        }

        public var cause: Cause
        /// The URL without its password.
        public var url: String

        public init(cause: Cause, url: DatabaseURL) {
            self.cause = cause
            self.url = url.description
        }

        /// Retrying cannot help: the configuration (password, TLS, database
        /// name) or the schema must change first. Refused, unreachable and
        /// unavailable servers are transient.
        public var isFatal: Bool {
            switch cause {
            case .authenticationFailed, .tlsNotOffered, .tlsRequiredByServer, .tlsFailed, .databaseMissing, .schemaMissing,
                .schemaOutdated, .statementRefused, .settingUnknown:
                return true
            case .refused, .unreachable, .serverUnavailable, .other:
                return false
            }
        }

        /// 78 (EX_CONFIG) when fatal, 69 (EX_UNAVAILABLE) when retrying later may help.
        public var exitCode: Int32 { isFatal ? 78 : 69 }

        /// What happened, naming the cause.
        public var message: String {
            switch cause {
            case .refused(let host, let port):
                return "cannot connect to the database at \(url): connection refused by \(host):\(port)"
            case .unreachable(let host, let port, let reason):
                return "cannot reach the database server \(host):\(port) (\(url)): \(reason)"
            case .authenticationFailed(let user, let reason):
                return "the database server refused user \"\(user)\" (\(url)): \(reason)"
            case .tlsNotOffered(let mode):
                return "the database server does not offer TLS, and sslmode=\(mode) requires it (\(url))"
            case .tlsRequiredByServer(let mode):
                return "the database server accepts this user only over TLS, and sslmode=\(mode) does not use it (\(url))"
            case .tlsFailed(let mode, let reason):
                return "TLS with the database server failed (sslmode=\(mode), \(url)): \(reason)"
            case .databaseMissing(let name):
                return "database \"\(name)\" does not exist (\(url))"
            case .schemaMissing(let database):
                return "database \"\(database)\" has no syncledger schema: it was never migrated (\(url))"
            case .schemaOutdated(let database, let missing):
                return "the schema of database \"\(database)\" is older than this syncledger \(SyncLedgerVersion.current): "
                    + "\(missing.count) migration(s) not applied: \(missing.joined(separator: ", "))"
            case .serverUnavailable(let reason):
                return "the database server cannot accept a connection now (\(url)): \(reason)"
            case .statementRefused(let reason):
                return "the database refuses this role's statements (\(url)): \(reason)"
            case .settingUnknown(let reason):
                return "the database server does not know a session setting of the worker (\(url)): \(reason)"
            case .other(let reason):
                return "cannot connect to the database at \(url): \(reason)"
            }
        }

        /// What to do about it.
        public var hint: String {
            switch cause {
            case .refused:
                return "check that PostgreSQL is running and listens on that address and port (listen_addresses, port), "
                    + "and that DATABASE_URL (or --database-url) names the right host and port"
            case .unreachable:
                return "check the host name in DATABASE_URL, DNS, and the network path and firewalls between this host and the database"
            case .authenticationFailed:
                return "check the user and password in DATABASE_URL (percent-encode special characters: @ as %40, : as %3A) "
                    + "and the server's pg_hba.conf; each failed attempt counts against account lockout policies"
            case .tlsNotOffered:
                return "turn on TLS on the server (ssl = on, with a certificate), or, on a trusted network only, use sslmode=prefer or sslmode=disable"
            case .tlsRequiredByServer:
                return "use sslmode=verify-full with sslrootcert=/path/to/ca.pem (or sslmode=require) in DATABASE_URL"
            case .tlsFailed:
                return "check sslrootcert= (the CA that signed the server's certificate, readable by this user) and that the host "
                    + "in DATABASE_URL matches the certificate; sslmode=verify-ca skips the host name check, require skips verification"
            case .databaseMissing(let name):
                return "fix the database name in DATABASE_URL, or create it: CREATE DATABASE \"\(name)\""
            case .schemaMissing, .schemaOutdated:
                return "run `syncledger migrate` (as a role that may create the schema and roles), then try again"
            case .serverUnavailable:
                return "retry in a moment; if it persists, check the server's log and max_connections"
            case .settingUnknown:
                return "syncledger needs PostgreSQL 14 or later (tcp_user_timeout, client_connection_check_interval); upgrade the server"
            case .statementRefused:
                return "grant the login role its syncledger role (e.g. GRANT syncledger_worker TO the user in DATABASE_URL), "
                    + "and run `syncledger migrate` if a function is missing"
            case .other:
                return "check DATABASE_URL (or --database-url) and that PostgreSQL is running and accepts connections"
            }
        }

        public var description: String { "\(message)\nhint: \(hint)" }
    }

    /// Connects to `url` once (at most `connectTimeout`), checks the schema
    /// when `requireSchema` is set, and disconnects.
    ///
    /// The schema check compares `integration.schema_migration` (what
    /// `syncledger migrate` records) with `migrator`'s files: any file not
    /// recorded is missing. Recorded migrations the binary does not know (a
    /// newer schema) are fine. Without `migrator`, only the schema's presence
    /// is checked. A schema applied with psql (no `schema_migration`), or a
    /// role that may not read that table, passes unverified.
    ///
    /// With `session` (delivered as startup parameters), the check sends its
    /// settings as the worker's connections will, so that a server that
    /// refuses them says so now: a pooler's "unsupported startup parameter"
    /// is noted in ``Outcome/refusedStartupParameter`` (the check then
    /// connects without them), a setting PostgreSQL does not know is a
    /// ``Failure/Cause/settingUnknown``.
    ///
    /// Throws a ``Failure`` naming the cause, or `CancellationError`.
    @discardableResult
    public static func run(
        url: DatabaseURL, requireSchema: Bool = true, migrator: Migrator? = nil, session: SessionSettings? = nil,
        connectTimeout: Duration = defaultConnectTimeout, logger: Logger
    ) async throws -> Outcome {
        var configuration: PostgresConnection.Configuration
        do {
            configuration = try url.connectionConfiguration()
        } catch {
            throw Failure(cause: .tlsFailed(sslMode: url.sslMode.rawValue, reason: tlsReason(error, url: url)), url: url)
        }
        configuration.options.connectTimeout = .milliseconds(Int64((connectTimeout / .milliseconds(1)).rounded()))
        let plain = [("application_name", "syncledger connection check")]
        configuration.options.additionalStartupParameters = plain
        if let session, session.delivery == .startupParameters {
            configuration.options.additionalStartupParameters += session.serverSettings.map { ($0.name, $0.value) }
        }

        var refused: String?
        let connection: PostgresConnection
        do {
            do {
                connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            } catch where refusedStartupParameter(error) != nil && configuration.options.additionalStartupParameters.count > 1 {
                refused = refusedStartupParameter(error)
                configuration.options.additionalStartupParameters = plain
                connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            }
        } catch {
            if error is CancellationError { throw error }
            throw Failure(cause: classify(error, url: url), url: url)
        }
        guard requireSchema else {
            try? await connection.close()
            return Outcome(refusedStartupParameter: refused)
        }
        do {
            var outcome = try await withTimeLimit(queryTimeout, onTimeout: { try? await connection.close() }) {
                try await checkSchema(on: connection, url: url, migrator: migrator, logger: logger)
            }
            outcome.refusedStartupParameter = refused
            try? await connection.close()
            return outcome
        } catch {
            try? await connection.close()
            if let failure = error as? Failure { throw failure }
            if error is CancellationError, Task.isCancelled { throw error }
            if error is TimeLimitExceeded {
                throw Failure(cause: .serverUnavailable(reason: "the schema query got no answer within \(queryTimeout)"), url: url)
            }
            throw Failure(cause: classify(error, url: url), url: url)
        }
    }

    // MARK: - Schema

    private static func checkSchema(on connection: PostgresConnection, url: DatabaseURL, migrator: Migrator?, logger: Logger)
        async throws -> Outcome
    {
        let database = url.database ?? url.username
        let probe = try await connection.checkedRows(
            """
            SELECT to_regclass('integration.schema_migration') IS NOT NULL,
                   coalesce(has_table_privilege(to_regclass('integration.schema_migration'), 'SELECT'), false),
                   to_regclass('integration.sync_job') IS NOT NULL
            """, logger: logger
        ).decoded((Bool, Bool, Bool).self)
        guard let (hasRecord, readable, hasJobs) = probe.first else { return Outcome() }
        if !hasRecord {
            if hasJobs {
                logger.debug("integration schema present without integration.schema_migration (applied with psql?): not compared")
                return Outcome()
            }
            throw Failure(cause: .schemaMissing(database: database), url: url)
        }
        guard readable else {
            logger.debug("this role may not read integration.schema_migration: schema version not compared")
            return Outcome()
        }
        let recorded = Dictionary(
            try await connection.checkedRows("SELECT version, checksum FROM integration.schema_migration", logger: logger)
                .decoded((String, String).self), uniquingKeysWith: { first, _ in first })
        if recorded.isEmpty { throw Failure(cause: .schemaMissing(database: database), url: url) }
        let applied = recorded.keys.filter { !$0.hasPrefix("code/") }.sorted()
        guard let migrator else { return Outcome(appliedMigrations: applied, schemaVerified: false) }
        let comparison = migrator.compare(recorded: recorded)
        var missing = comparison.missingVersions
        if comparison.isLegacyRelease { missing.insert(Migrator.baseline, at: 0) }
        if !missing.isEmpty { throw Failure(cause: .schemaOutdated(database: database, missing: missing), url: url) }
        if !comparison.changedCode.isEmpty && comparison.newerVersions.isEmpty {
            logger.warning(
                "the schema's code differs from this binary's; run `syncledger migrate` with the binary you deploy",
                metadata: ["files": "\(comparison.changedCode.joined(separator: ", "))"])
        }
        return Outcome(appliedMigrations: applied, newerMigrations: comparison.newerVersions, schemaVerified: true)
    }

    // MARK: - Classifying connection errors

    /// The startup parameter a connection pooler refused ("unsupported
    /// startup parameter: NAME", PgBouncer's words), if that is what `error` is.
    public static func refusedStartupParameter(_ error: any Error) -> String? {
        guard let message = PostgresErrors.serverError(error)?.serverInfo?[.message] else { return nil }
        let prefix = "unsupported startup parameter"
        guard message.hasPrefix(prefix) else { return nil }
        let name = message.dropFirst(prefix.count).drop { $0 == ":" || $0 == " " }
        return name.isEmpty ? "(unnamed)" : String(name)
    }

    /// The cause of a failed connection attempt (or a failed query right after it).
    public static func classify(_ error: any Error, url: DatabaseURL) -> Failure.Cause {
        let mode = url.sslMode.rawValue
        if let failure = error as? Failure { return failure.cause }
        guard let psql = error as? PSQLError else {
            return classifyTransport(error, url: url) ?? .other(reason: String(describing: error))
        }
        switch psql.code {
        case .server:
            return classifyServer(psql, url: url)
        case .sslUnsupported:
            return .tlsNotOffered(sslMode: mode)
        case .failedToAddSSLHandler, .receivedUnencryptedDataAfterSSLRequest:
            return .tlsFailed(sslMode: mode, reason: psql.underlying.map { tlsReason($0, url: url) } ?? "\(psql.code)")
        case .unsupportedAuthMechanism:
            return .authenticationFailed(
                user: url.username, reason: "the server asks for an authentication method this client does not support (use scram-sha-256 or md5)")
        case .authMechanismRequiresPassword:
            return .authenticationFailed(user: url.username, reason: "the server asks for a password and DATABASE_URL has none")
        case .saslError:
            return .authenticationFailed(
                user: url.username, reason: "SCRAM authentication failed: \(psql.underlying.map { String(describing: $0) } ?? "no detail")")
        case .connectionError:
            if let underlying = psql.underlying, let cause = classifyTransport(underlying, url: url) { return cause }
            return .other(reason: psql.underlying.map { String(describing: $0) } ?? "connection error")
        case .serverClosedConnection, .uncleanShutdown:
            if let underlying = psql.underlying, let cause = classifyTransport(underlying, url: url) { return cause }
            return .other(reason: "\(url.host):\(url.port) closed the connection during start-up (is a PostgreSQL server listening there?)")
        default:
            return .other(reason: PostgresErrors.message(psql))
        }
    }

    private static func classifyServer(_ psql: PSQLError, url: DatabaseURL) -> Failure.Cause {
        let state = PostgresErrors.sqlState(psql)
        let message = psql.serverInfo?[.message] ?? PostgresErrors.message(psql)
        switch state {
        case .invalidPassword?:
            return .authenticationFailed(user: url.username, reason: message)
        case .invalidAuthorizationSpecification?:
            // pg_hba.conf: "no pg_hba.conf entry for host ..., user ..., database ..., no encryption"
            if message.contains("no encryption") && !url.usesTLS { return .tlsRequiredByServer(sslMode: url.sslMode.rawValue) }
            return .authenticationFailed(user: url.username, reason: message)
        case .insufficientPrivilege?:
            // At connect: permission denied for database (no CONNECT
            // privilege). After: this role may not use the schema.
            if message.hasPrefix("permission denied for database") {
                return .authenticationFailed(user: url.username, reason: message)
            }
            return .statementRefused(reason: message)
        case .invalidCatalogName?:
            return .databaseMissing(name: url.database ?? url.username)
        case .cannotConnectNow?, .tooManyConnections?, .adminShutdown?, .diskFull?, .outOfMemory?:
            return .serverUnavailable(reason: message)
        case .undefinedObject? where message.hasPrefix("unrecognized configuration parameter"):
            return .settingUnknown(reason: message)
        default:
            if refusedStartupParameter(psql) != nil { return .statementRefused(reason: message) }
            return .other(reason: PostgresErrors.message(psql))
        }
    }

    /// Socket, DNS, timeout and TLS errors from below the PostgreSQL protocol.
    private static func classifyTransport(_ error: any Error, url: DatabaseURL) -> Failure.Cause? {
        let (host, port) = (url.unixSocketPath ?? url.host, url.port)
        switch error {
        case let connection as NIOConnectionError:
            if let dns = connection.dnsAError ?? connection.dnsAAAAError, connection.connectionErrors.isEmpty {
                return .unreachable(host: host, port: port, reason: "cannot resolve host name \"\(url.host)\" (\(dns))")
            }
            let causes = connection.connectionErrors.map { classifyTransport($0.error, url: url) }
            if !causes.isEmpty, causes.allSatisfy({ if case .refused = $0 { true } else { false } }) {
                return .refused(host: host, port: port)
            }
            if let first = causes.compactMap({ $0 }).first { return first }
            return .unreachable(host: host, port: port, reason: String(describing: connection))
        case let io as IOError:
            switch io.errnoCode {
            case ECONNREFUSED, ENOENT:
                return .refused(host: host, port: port)
            case ETIMEDOUT:
                return .unreachable(host: host, port: port, reason: "timed out")
            case ENETUNREACH, EHOSTUNREACH:
                return .unreachable(host: host, port: port, reason: "no route to host")
            default:
                return .unreachable(host: host, port: port, reason: String(describing: io))
            }
        case let channel as ChannelError:
            if case .connectTimeout(let amount) = channel {
                let milliseconds = amount.nanoseconds / 1_000_000
                let within = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
                return .unreachable(host: host, port: port, reason: "no answer within \(within)")
            }
            return nil
        case is NIOSSLError, is BoringSSLError:
            return .tlsFailed(sslMode: url.sslMode.rawValue, reason: tlsReason(error, url: url))
        default:
            return nil
        }
    }

    /// A TLS error in words.
    private static func tlsReason(_ error: any Error, url: DatabaseURL) -> String {
        switch error {
        case let ssl as NIOSSLError:
            switch ssl {
            case .noSuchFilesystemObject, .failedToLoadCertificate:
                return "cannot read the CA certificate sslrootcert=\(url.sslRootCertificate ?? "(none)")"
            case .handshakeFailed(let inner):
                return "handshake failed: \(inner)"
            case .unableToValidateCertificate, .noCertificateToValidate:
                return "the server's certificate could not be validated"
            default:
                return String(describing: ssl)
            }
        default:
            return String(describing: error)
        }
    }
}

extension DatabaseURL {
    /// Whether this URL's `sslmode` encrypts (or tries to).
    var usesTLS: Bool {
        switch sslMode {
        case .disable, .allow: false
        case .prefer, .require, .verifyCA, .verifyFull: unixSocketPath == nil
        }
    }
}
