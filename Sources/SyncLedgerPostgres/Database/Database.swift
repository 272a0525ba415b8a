import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// Running a `PostgresClient` for the length of a piece of work.
public enum Database {
    /// Runs a multi-statement script (split like psql would), in order.
    public static func runScript(_ script: String, on client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { conn in
            for statement in SQLScript.statements(script) {
                try await conn.run(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// Runs `body` with a running client for `url`; the client stops afterwards.
    public static func withClient<T: Sendable>(
        _ url: DatabaseURL, applicationName: String = "syncledger", maximumConnections: Int = 20, logger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let configuration = try url.clientConfiguration(maximumConnections: maximumConnections, applicationName: applicationName)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            // Let run() start before the first lease, so the pool does not warn.
            try await Task.sleep(for: .milliseconds(5))
            return try await body(client)
        }
    }

    /// Creates `name` (dropping it first if `replace`) on the server of `url`.
    public static func createDatabase(_ name: String, on url: DatabaseURL, template: String? = nil, replace: Bool = false, logger: Logger) async throws {
        try await withClient(url, maximumConnections: 1, logger: logger) { client in
            let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            if replace { try await client.run("DROP DATABASE IF EXISTS \(unescaped: quoted) WITH (FORCE)", logger: logger) }
            if let template {
                let quotedTemplate = "\"" + template.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                try await client.run("CREATE DATABASE \(unescaped: quoted) TEMPLATE \(unescaped: quotedTemplate)", logger: logger)
            } else {
                try await client.run("CREATE DATABASE \(unescaped: quoted)", logger: logger)
            }
        }
    }
}
