import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://` URL turned into a client configuration.
///
/// Understands `postgres://user:password@host:port/database?sslmode=...&sslrootcert=...`
/// with `sslmode` one of `disable`, `prefer` (the default), `require`,
/// `verify-ca` or `verify-full`, as libpq does. `host` may also be given as a
/// query parameter naming a Unix socket directory (`?host=/run/postgresql`).
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var sslMode: SSLMode
    public var sslRootCertificate: String?
    /// Set when `host` is a Unix socket directory.
    public var unixSocketPath: String?

    /// libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// A configuration error, naming what is wrong in the URL.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String?, sslMode: SSLMode = .disable) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(parsing string: String) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw Invalid(description: "DATABASE_URL must look like postgres://user:password@host:5432/database?sslmode=require")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = components.port ?? Int(query["port"] ?? "") ?? 5432
        username = components.user.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? query["password"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? query["dbname"] : path.removingPercentEncoding
        let mode = query["sslmode"] ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw Invalid(description: "DATABASE_URL sslmode '\(mode)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.sslMode = sslMode
        sslRootCertificate = query["sslrootcert"]
        if let socketHost = query["host"], socketHost.hasPrefix("/") {
            unixSocketPath = socketHost.hasSuffix(".s.PGSQL.\(port)") ? socketHost : "\(socketHost)/.s.PGSQL.\(port)"
        }
    }

    /// The same server, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database ?? "")?sslmode=\(sslMode.rawValue)"
    }

    /// A `PostgresClient` configuration for this URL, its connections named
    /// `applicationName` (in `pg_stat_activity`) and bounded by `session`.
    ///
    /// The pool's own keep-alive (a `SELECT 1` on idle connections) is off: on
    /// a half-open connection it waits forever, and the connection it waits on
    /// is never handed out nor replaced, so a network partition slowly takes
    /// the whole pool. Idle connections are closed after a minute instead, and
    /// a connection that died idle fails its next query within its
    /// ``QueryDeadline``.
    public func clientConfiguration(
        maximumConnections: Int = 20, applicationName: String = "syncledger", session: SessionSettings? = nil
    ) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let unixSocketPath {
            configuration = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: try clientTLS())
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.keepAliveBehavior = nil
        configuration.options.additionalStartupParameters =
            (session ?? SessionSettings.unbounded).startupParameters(applicationName: applicationName)
        return configuration
    }

    /// A single-connection configuration (for LISTEN, and checks), named and
    /// bounded like ``clientConfiguration(maximumConnections:applicationName:session:)``.
    public func connectionConfiguration(
        applicationName: String = "syncledger", session: SessionSettings? = nil
    ) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let unixSocketPath {
            configuration = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch sslMode {
            case .disable, .allow: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration()))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters =
            (session ?? SessionSettings.unbounded).startupParameters(applicationName: applicationName)
        return configuration
    }

    private func clientTLS() throws -> PostgresClient.Configuration.TLS {
        switch sslMode {
        case .disable, .allow: .disable
        case .prefer: .prefer(try tlsConfiguration())
        case .require, .verifyCA, .verifyFull: .require(try tlsConfiguration())
        }
    }

    private func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none  // libpq: require/prefer encrypt without verifying
        }
        if let sslRootCertificate {
            tls.trustRoots = .file(sslRootCertificate)
        }
        return tls
    }
}
