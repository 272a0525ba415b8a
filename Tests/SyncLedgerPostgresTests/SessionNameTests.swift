import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// The worker finds its own server sessions by `application_name` (after a
/// forced stop it ends them). The server keeps 63 bytes of it: two workers
/// on a host with a long name must still have names of their own.
@Suite("Session names")
struct SessionNameTests {
    @Test func longNamesStayDistinctAndFitTheServer() async throws {
        let host = String(repeating: "h", count: 50) + ".example.org"
        let first = SessionSettings.serverName("syncledger worker \(host):1")
        let second = SessionSettings.serverName("syncledger worker \(host):2")
        #expect(first != second)
        #expect(first.utf8.count <= 63 && second.utf8.count <= 63)
        #expect(first.hasPrefix("syncledger worker hhhh"))
        // Stable: the same name every time (a restarted process must find its sessions).
        #expect(SessionSettings.serverName("syncledger worker \(host):1") == first)
        // Short names are left alone.
        #expect(SessionSettings.serverName("syncledger worker vm:42") == "syncledger worker vm:42")

        // The server keeps the name exactly as sent.
        try await TestDatabase.with { db in
            let name = "syncledger worker \(host):1"
            let seen = try await Database.withClient(db.url, applicationName: name, maximumConnections: 1, logger: db.logger) { client in
                try await client.collect("SELECT current_setting('application_name')", as: String.self, logger: db.logger).first
            }
            #expect(seen == first)
        }
    }
}
