import Foundation
import Logging
import SyncLedgerDevSupport
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Issue 19: every SQL and shell example of README.md and docs/*.md runs, in
/// the order written, as the role it is written for (``DocumentBlock``:
/// `as=ROLE` in the fence's info string), on a cluster of its own, from the
/// README's first step (`syncledger demo` with `DATABASE_URL` set, which
/// creates the database `syncledger_demo`) to its last. An upstream's example
/// runs as the upstream's login, under row-level security and its column
/// grants, a steward's as a steward's.
///
/// How a block runs:
/// - `sql`: with `psql -v ON_ERROR_STOP=1`, logged in as the role's login, in
///   the database the last `export DATABASE_URL=…` of a shell block named
///   (`postgres` before the first).
/// - `sh`: with `bash -e -o pipefail` in one working directory shared by all
///   blocks (so files a block writes are there for the next), `swift run
///   [-c release] syncledger` being the built binary, `DATABASE_URL` set to
///   the role's login and that database. URLs in the block keep their user
///   and database and get this cluster's host and port; a URL whose user is
///   not the block's role's login is an error in the document.
///
/// The logins are those the README creates (owner: the superuser).
@Suite("Documentation examples run as written", .serialized)
struct DocumentationExamplesTests {
    static let documents = ["README.md", "docs/proofs.md", "docs/schema-contract.md"]

    /// The login each role's examples run as.
    static let logins = [
        "owner": "postgres", "upstream": "hr_loader", "connector": "payroll_loader", "steward": "dana", "admin": "ops",
        "worker": "sl_worker",
    ]

    @Test func everyExampleSaysWhomItRunsAs() throws {
        for document in Self.documents {
            for block in DocumentBlock.blocks(in: try DocumentationTests.read(document), file: document) where block.isExample {
                #expect(
                    block.isExampleOnly || block.role.map { Self.logins[$0] != nil } == true,
                    "\(block): a \(block.language) block needs `as=ROLE` (\(Self.logins.keys.sorted().joined(separator: ", "))) or `example-only`")
            }
        }
    }

    @Test(.timeLimit(.minutes(20)))
    func everyExampleRunsAsItsRole() async throws {
        let blocks = try Self.documents.flatMap { DocumentBlock.blocks(in: try DocumentationTests.read($0), file: $0) }
            .filter { $0.isExample && !$0.isExampleOnly && $0.role != nil }
        #expect(blocks.count >= 20, "\(blocks.count) examples")
        let server = try await EmbeddedPostgres.start(logger: TestCluster.logger)
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncledger-docs-\(UUID().uuidString)")
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeSwiftShim(in: bin)

        var database = "postgres"
        for block in blocks {
            let login = try #require(Self.logins[block.role ?? ""], "\(block)")
            let url = "postgres://\(login)@127.0.0.1:\(server.url.port)/\(database)?sslmode=disable"
            let run: CommandRun
            if block.isSQL {
                let script = directory.appendingPathComponent("block.sql")
                try Data(block.body.utf8).write(to: script)
                run = try await CommandRun.run(
                    executable: URL(fileURLWithPath: "/usr/bin/env"), ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script.path, url],
                    directory: directory, bound: .seconds(120))
            } else {
                let (script, problems) = Self.pointed(block.body, at: server.url.port, login: login)
                for problem in problems { Issue.record("\(block): \(problem)") }
                if let named = Self.exportedDatabase(in: script) { database = named }
                let file = directory.appendingPathComponent("block.sh")
                try Data(script.utf8).write(to: file)
                run = try await CommandRun.run(
                    executable: URL(fileURLWithPath: "/bin/bash"), ["-e", "-o", "pipefail", file.path],
                    environment: [
                        "PATH": "\(bin.path):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")", "DATABASE_URL": url,
                        "SYNCLEDGER_DOC_BINARY": WorkerProcess.binary.path,
                    ], directory: directory, bound: .seconds(300))
            }
            #expect(run.status == 0, "\(block) as \(block.role ?? "?") (\(login)) failed:\n\(block.body)\n\(run)")
        }
    }

    /// `swift run [-c release] syncledger ARGS` runs the built binary; any
    /// other use of `swift` is not something a document's example may do.
    static func writeSwiftShim(in bin: URL) throws {
        let shim = bin.appendingPathComponent("swift")
        try Data(
            """
            #!/bin/sh
            [ "$1" = run ] || { echo "the documentation test runs only 'swift run syncledger', not 'swift $*'" >&2; exit 3; }
            shift
            if [ "$1" = -c ]; then shift 2; fi
            [ "$1" = syncledger ] || { echo "the documentation test runs only 'swift run syncledger'" >&2; exit 3; }
            shift
            exec "$SYNCLEDGER_DOC_BINARY" "$@"

            """.utf8
        ).write(to: shim)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: shim.path)
    }

    /// The block with every `postgres://USER@HOST:PORT/` pointed at this
    /// cluster's port, and what is wrong with its URLs: a user other than
    /// the block's login.
    static func pointed(_ body: String, at port: Int, login: String) -> (String, [String]) {
        let url = #/postgres:\/\/(?<user>[^@\s'"\/]+)@(?<host>[^\/\s'"]+)\//#
        var problems: [String] = []
        let text = body.replacing(url) { match in
            let user = String(match.output.user)
            if user != login { problems.append("its URL names the user \(user), but the block runs as \(login)") }
            return "postgres://\(user)@127.0.0.1:\(port)/"
        }
        return (text, problems)
    }

    /// The database of the block's last `export DATABASE_URL=…`.
    static func exportedDatabase(in script: String) -> String? {
        let export = #/export DATABASE_URL='?postgres:\/\/[^\/\s']+\/(?<database>[A-Za-z0-9_]+)/#
        return script.matches(of: export).last.map { String($0.output.database) }
    }
}
