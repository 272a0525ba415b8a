import Foundation
import Logging
import PostgresNIO
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// The throwaway cluster of the demo and the tests: it starts, serves, and
/// leaves nothing behind when stopped. These tests start clusters of their
/// own, besides the shared one, so they skip when `DATABASE_URL` is given.
@Suite("Embedded PostgreSQL", .enabled(if: (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty))
struct EmbeddedPostgresTests {
    /// The server's data directory, asked of the server itself.
    static func dataDirectory(_ url: DatabaseURL) async throws -> String {
        try await Database.withClient(url, maximumConnections: 1, logger: TestCluster.logger) { client in
            let rows = try await TextTable.query("SHOW data_directory", on: client, logger: TestCluster.logger).rows
            return try #require(rows.first?.first ?? nil)
        }
    }

    @Test func stoppedClusterLeavesNoDirectoryAndRefusesConnections() async throws {
        let postgres = try await EmbeddedPostgres.start(logger: TestCluster.logger)
        let url = postgres.url
        #expect(url.host == "127.0.0.1")
        let data = try await Self.dataDirectory(url)
        #expect(FileManager.default.fileExists(atPath: data))
        #expect(LoopbackSocket.accepts(port: url.port))
        let answer = try await Database.withClient(url, maximumConnections: 1, logger: TestCluster.logger) { client in
            try await TextTable.query("SELECT (40 + 2)::text", on: client, logger: TestCluster.logger).rows
        }
        #expect(answer == [["42"]])

        postgres.stop()

        #expect(!FileManager.default.fileExists(atPath: data))
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).deletingLastPathComponent().path))
        #expect(!LoopbackSocket.accepts(port: url.port))
    }

    @Test func withClusterStopsTheClusterWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        let seen = Seen()
        await #expect(throws: Boom.self) {
            try await EmbeddedPostgres.withCluster(logger: TestCluster.logger) { url in
                await seen.set(url.port, try await Self.dataDirectory(url))
                throw Boom()
            }
        }
        let (port, data) = try #require(await seen.value)
        #expect(!FileManager.default.fileExists(atPath: data))
        #expect(!LoopbackSocket.accepts(port: port))
    }

    @Test func twoClustersRunSideBySideOnDifferentPorts() async throws {
        let first = try await EmbeddedPostgres.start(logger: TestCluster.logger)
        defer { first.stop() }
        let second = try await EmbeddedPostgres.start(logger: TestCluster.logger)
        defer { second.stop() }
        #expect(first.url.port != second.url.port)
        let firstData = try await Self.dataDirectory(first.url)
        let secondData = try await Self.dataDirectory(second.url)
        #expect(firstData != secondData)
        first.stop()
        #expect(LoopbackSocket.accepts(port: second.url.port))
        #expect(!FileManager.default.fileExists(atPath: firstData))
        #expect(FileManager.default.fileExists(atPath: secondData))
    }

    private actor Seen {
        var value: (Int, String)?
        func set(_ port: Int, _ data: String) { value = (port, data) }
    }
}
