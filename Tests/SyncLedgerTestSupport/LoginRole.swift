import Foundation
import PostgresNIO
import SyncLedgerPostgres

/// Runs `body` with a client connected as a new login role that is a member
/// of `groups` and, with `source`, registered as that source system's
/// `login_role` (with `user`, as that app user's). The role has a unique name
/// (roles are cluster-wide) and is dropped afterwards.
@discardableResult
package func withLoginRole<T: Sendable>(
    _ db: TestDatabase, _ prefix: String, in groups: [String], for source: String? = nil, as user: String? = nil,
    _ body: @Sendable (PostgresClient, DatabaseURL) async throws -> T
) async throws -> T {
    let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    // Ignored under the embedded cluster's trust authentication; needed on a
    // DATABASE_URL server that asks for passwords.
    let password = UUID().uuidString
    try await db.exec("CREATE ROLE \(name) LOGIN PASSWORD '\(password)' IN ROLE \(groups.joined(separator: ", "))")
    let outcome: Result<T, any Error>
    do {
        if let source {
            try await db.client.query(
                "UPDATE integration.source_system SET login_role = \(name) WHERE source_system_key = \(source)", logger: db.logger)
        }
        if let user {
            try await db.client.query("UPDATE integration.app_user SET login_role = \(name) WHERE user_name = \(user)", logger: db.logger)
        }
        var login = db.url
        login.username = name
        login.password = password
        let url = login
        outcome = .success(try await Database.withClient(url, maximumConnections: 8, logger: db.logger) { try await body($0, url) })
    } catch {
        outcome = .failure(error)
    }
    if user != nil { try await db.exec("UPDATE integration.app_user SET login_role = NULL WHERE login_role = '\(name)'") }
    try await db.exec("DROP ROLE \(name)")
    return try outcome.get()
}
