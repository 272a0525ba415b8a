import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// `syncledger submit` (SPEC §7) on the real database, run as the built
/// binary: files in, jobs and items out, processed by the worker.
@Suite("syncledger submit: files become jobs")
struct SubmitTests {
    static let person = ["--source", "hr", "--table", "core.person", "--key", "employee_id"]

    /// Writes `text` to a temporary file named `name`; removed with `directory`.
    static func file(_ name: String, _ text: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncledger-submit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    /// Jobs of the database by status, e.g. ["Submitted": 1].
    static func jobs(_ db: TestDatabase) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await db.rows("SELECT job_status, count(*)::text FROM integration.sync_job GROUP BY 1") {
            result[row[0]!] = Int(row[1]!)!
        }
        return result
    }

    /// The id of the organisation HR knows as `key`.
    static func organisation(_ db: TestDatabase, _ key: String) async throws -> String? {
        try await db.text(
            """
            SELECT target_id::text FROM integration.identifier
             WHERE source_system_key = 'hr' AND target_table = 'core.organisation' AND external_key = \(key)
            """)
    }

    // MARK: - Files that go in

    @Test func csvWithQuotingLineBreaksUnicodeEmptyCellsAndALink() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let path = try Self.file(
                    "people.csv",
                    "\u{FEFF}employee_id,given_name,family_name,email,employer_id\r\n"
                        + "E1,\"Ann \"\"Nan\"\"\",Smith,ann@example.org,ORG-1\r\n"
                        + "E2,Zoë,\"Ørsted\r\nsecond line\",,ORG-1\r\n"
                        + "E3,\"Jean, Luc\",東京,jl@example.org,\r\n",
                    in: directory)
                let run = try await CommandProcess.run(["submit", path] + Self.person + ["--link", "employer_id"], url: db.url)
                #expect(run.status == 0, "\(run.output)")
                #expect(run.stdout.contains("submitted job"), "\(run.output)")
                #expect(run.stdout.contains("10 item(s) from 3 record(s)"), "\(run.output)")
            }
            #expect(try await Self.jobs(db) == ["Submitted": 1])
            let links = try await db.int("SELECT count(*) FROM integration.sync_item WHERE operation = 'Link'")
            #expect(links == 2)

            try await db.runWorker()
            #expect(try await Self.jobs(db) == ["Completed": 1])
            #expect(try await db.person("E1", "given_name") == "Ann \"Nan\"")
            #expect(try await db.person("E2", "given_name") == "Zoë")
            #expect(try await db.person("E2", "family_name") == "Ørsted\r\nsecond line")
            #expect(try await db.person("E2", "email") == nil)  // empty cell: left alone
            #expect(try await db.person("E3", "given_name") == "Jean, Luc")
            #expect(try await db.person("E3", "family_name") == "東京")
            let org = try #require(try await Self.organisation(db, "ORG-1"))
            #expect(try await db.person("E1", "employer_id") == org)
            #expect(try await db.person("E2", "employer_id") == org)
            #expect(try await db.person("E3", "employer_id") == nil)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func jsonLinesFromStandardInputWithNumbersNullsAndALink() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let lines = """
                {"employee_id": "J1", "given_name": "Ünïcödé 😀", "family_name": "Line\\nbreak", "email": null, "employer_id": "ORG-2"}
                {"employee_id": "J2", "given_name": "Bob", "salary": 1234.50}

                {"salary": 99.1, "employee_id": "J3"}
                """
            let run = try await CommandProcess.run(
                ["submit", "-", "--format", "jsonl"] + Self.person + ["--link", "employer_id"], url: db.url, stdin: lines)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.stdout.contains("6 item(s) from 3 record(s) of standard input"), "\(run.output)")
            try await db.runWorker()
            #expect(try await Self.jobs(db) == ["Completed": 1])
            #expect(try await db.person("J1", "given_name") == "Ünïcödé 😀")
            #expect(try await db.person("J1", "family_name") == "Line\nbreak")
            #expect(try await db.person("J1", "employer_id") == (try await Self.organisation(db, "ORG-2")))
            #expect(try await db.person("J2", "salary") == "1234.50")
            #expect(try await db.person("J3", "salary") == "99.10")
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func emptyCellsClearOnlyWhenAsked() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let first = try Self.file("1.csv", "employee_id,given_name,family_name\nE1,Ann,Smith\n", in: directory)
                let leave = try Self.file("2.csv", "employee_id,given_name,family_name\nE1,Anna,\n", in: directory)
                let clear = try Self.file("3.csv", "employee_id,given_name,family_name\nE1,Anne,\n", in: directory)
                #expect(try await CommandProcess.run(["submit", first] + Self.person, url: db.url).status == 0)
                try await db.runWorker()
                #expect(try await CommandProcess.run(["submit", leave] + Self.person, url: db.url).status == 0)
                try await db.runWorker()
                #expect(try await db.person("E1", "given_name") == "Anna")
                #expect(try await db.person("E1", "family_name") == "Smith")
                let run = try await CommandProcess.run(["submit", clear, "--empty-cells", "clear"] + Self.person, url: db.url)
                #expect(run.status == 0, "\(run.output)")
                try await db.runWorker()
                #expect(try await db.person("E1", "given_name") == "Anne")
                #expect(try await db.person("E1", "family_name") == nil)
            }
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func mappingFileRenamesLinksIgnoresAndStampsTimes() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let mapping = try Self.file(
                    "hr.json",
                    """
                    {"source": "hr", "table": "core.person", "key": "emp",
                     "source_timestamp": "changed",
                     "columns": {"first": "given_name", "org": {"field": "employer_id", "link": "core.organisation"}},
                     "ignore": ["internal"]}
                    """, in: directory)
                let path = try Self.file(
                    "extract.csv", "emp,first,org,internal,changed\nE9,Ida,ORG-9,secret,2026-11-25T08:00:00+01:00\n", in: directory)
                let run = try await CommandProcess.run(["submit", path, "--mapping", mapping], url: db.url)
                #expect(run.status == 0, "\(run.output)")
            }
            let items = try await db.rows(
                "SELECT operation, field_name, new_value, (source_timestamp = '2026-11-25T07:00:00Z')::text FROM integration.sync_item ORDER BY seq")
            #expect(items == [["Set", "given_name", "Ida", "true"], ["Link", "employer_id", "ORG-9", "true"]])
            try await db.runWorker()
            #expect(try await db.person("E9", "given_name") == "Ida")
            #expect(try await db.person("E9", "employer_id") == (try await Self.organisation(db, "ORG-9")))
        }
    }

    // MARK: - Files that are refused

    /// A refused submission: exit 1, the message names the file and the place, nothing written.
    static func expectRefused(_ run: CommandProcess.Result, _ fragments: [String], db: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        #expect(run.status == 1, "\(run.output)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(run.stderr.contains(fragment), "expected '\(fragment)' in \(run.output)", sourceLocation: sourceLocation)
        }
        #expect(run.stderr.contains("nothing was submitted"), "\(run.output)", sourceLocation: sourceLocation)
        #expect(try await Self.jobs(db) == [:], sourceLocation: sourceLocation)
        #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0, sourceLocation: sourceLocation)
    }

    @Test func badFilesAreRefusedNamingTheLineOrColumnAndSubmitNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let unknown = try Self.file("unknown.csv", "employee_id,given_name,emial\nE1,Ann,a@example.org\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", unknown] + Self.person, url: db.url),
                    ["unknown.csv, line 1, column 'emial'", "unknown field 'emial' on core.person", "--ignore emial"], db: db)

                let noKey = try Self.file("nokey.csv", "id_of_employee,given_name\nE1,Ann\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", noKey] + Self.person, url: db.url),
                    ["nokey.csv, line 1, column 'employee_id': the key column is not in the header"], db: db)

                // Malformed on line 4 (after an embedded line break), after good rows.
                let malformed = try Self.file(
                    "malformed.csv", "employee_id,given_name\nE1,\"Ann\nMarie\"\nE2,Bo\"b\nE3,Cy\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", malformed] + Self.person, url: db.url),
                    ["malformed.csv, line 4: a double quote inside a field"], db: db)

                let ragged = try Self.file("ragged.csv", "employee_id,given_name\nE1,Ann\nE2,Bob,extra\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", ragged] + Self.person, url: db.url),
                    ["ragged.csv, line 3: 3 fields where the header (line 1) has 2"], db: db)

                let jsonl = try Self.file("bad.jsonl", "{\"employee_id\": \"E1\"}\n{\"employee_id\": \"E2\", \"given_name\": }\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", jsonl] + Self.person, url: db.url), ["bad.jsonl, line 2: expected a value"], db: db)

                let good = try Self.file("good.csv", "employee_id,given_name\nE1,Ann\n", in: directory)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", good, "--source", "hr", "--table", "core.people", "--key", "employee_id"], url: db.url),
                    ["target table 'core.people' is not registered in integration.target_table"], db: db)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", good, "--source", "legacy", "--table", "core.person", "--key", "employee_id"], url: db.url),
                    ["source system 'legacy' is inactive"], db: db)
                try await Self.expectRefused(
                    try await CommandProcess.run(["submit", good, "--source", "nosuch", "--table", "core.person", "--key", "employee_id"], url: db.url),
                    ["unknown source system 'nosuch'"], db: db)
            }
        }
    }

    // MARK: - Idempotence and snapshots

    @Test func theSameFileTwiceSubmitsOnce() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let path = try Self.file("people.csv", "employee_id,given_name\nE1,Ann\nE2,Bob\n", in: directory)
                let first = try await CommandProcess.run(["submit", path] + Self.person, url: db.url)
                #expect(first.status == 0, "\(first.output)")
                let jobID = try #require(try await db.text("SELECT job_id::text FROM integration.sync_job"))
                let jobKey = try #require(try await db.text("SELECT job_key FROM integration.sync_job"))
                #expect(jobKey.hasPrefix("sha256:"))

                let again = try await CommandProcess.run(["submit", path] + Self.person, url: db.url)
                #expect(again.status == 0, "\(again.output)")
                #expect(again.stdout.contains("was already submitted as job \(jobID)"), "\(again.output)")
                // Also from standard input, and after the job was processed.
                try await db.runWorker()
                let piped = try await CommandProcess.run(
                    ["submit", "-", "--format", "csv"] + Self.person, url: db.url, stdin: "employee_id,given_name\nE1,Ann\nE2,Bob\n")
                #expect(piped.stdout.contains("was already submitted as job \(jobID)"), "\(piped.output)")
                #expect(try await Self.jobs(db) == ["Completed": 1])
                #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 2)

                // A different mapping of the same bytes is another submission.
                let cleared = try await CommandProcess.run(["submit", path, "--empty-cells", "clear"] + Self.person, url: db.url)
                #expect(cleared.stdout.contains("submitted job"), "\(cleared.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 2)
            }
        }
    }

    /// A change reverted at the source: A, then B, then A again. The third
    /// file is a new statement (the target must hold A again), not a repeat
    /// of the first; sent a fourth time, it is a repeat of the third.
    @Test func contentThatComesBackAfterAChangeIsSubmittedAgain() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await Self.withDirectory { directory in
                let a = try Self.file("a.csv", "employee_id,given_name\nE1,Ann\n", in: directory)
                let b = try Self.file("b.csv", "employee_id,given_name\nE1,Anna\n", in: directory)
                for path in [a, b] {
                    let run = try await CommandProcess.run(["submit", path] + Self.person, url: db.url)
                    #expect(run.stdout.contains("submitted job"), "\(run.output)")
                    try await db.runWorker()
                }
                #expect(try await db.person("E1", "given_name") == "Anna")

                let again = try await CommandProcess.run(["submit", a] + Self.person, url: db.url)
                #expect(again.stdout.contains("submitted job"), "\(again.output)")
                try await db.runWorker()
                #expect(try await db.person("E1", "given_name") == "Ann")
                let keys = try await db.rows("SELECT job_key FROM integration.sync_job ORDER BY job_id").map { $0[0] ?? "" }
                #expect(keys.count == 3)
                #expect(keys[2].hasPrefix(keys[0] + "@"), "\(keys)")

                let repeated = try await CommandProcess.run(["submit", a] + Self.person, url: db.url)
                #expect(repeated.stdout.contains("was already submitted as job"), "\(repeated.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 3)
                #expect(try await db.provenanceViolations().isEmpty)
            }
        }
    }

    @Test func snapshotDeletesExactlyTheRecordsTheFileLacks() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // HR knows E1..E4 (E4 already deleted); payroll knows P1; HR knows an organisation.
            try await db.submit(items: [
                .set("E1", "given_name", "Ann"), .set("E2", "given_name", "Bob"), .set("E3", "given_name", "Cy"),
                .set("E4", "given_name", "Di"), .set("O1", "name", "Org", table: "core.organisation"),
            ])
            try await db.submit(source: "payroll", items: [.set("P1", "given_name", "Pay")])
            try await db.runWorker()
            try await db.submit(items: [.delete("E4")])
            try await db.runWorker()
            #expect(try await db.person("E4", "is_active") == "false")

            let run = try await CommandProcess.run(
                ["submit", "-", "--format", "csv", "--snapshot"] + Self.person, url: db.url,
                stdin: "employee_id,given_name\nE1,Ann\nE3,\nE5,Eve\n")
            #expect(run.status == 0, "\(run.output)")
            #expect(run.stdout.contains("2 item(s) from 3 record(s)"), "\(run.output)")
            #expect(run.stdout.contains("1 Delete item(s)"), "\(run.output)")
            let jobID = try await db.int("SELECT max(job_id) FROM integration.sync_job")
            let items = try await db.rows(
                "SELECT external_key, operation, coalesce(field_name, '-') FROM integration.sync_item WHERE job_id = \(jobID) ORDER BY seq")
            // E3 is in the file (its only cell empty): not deleted. E4 is deleted already; P1 and O1 are not HR's people.
            #expect(items == [["E1", "Set", "given_name"], ["E5", "Set", "given_name"], ["E2", "Delete", "-"]])

            try await db.runWorker()
            #expect(try await db.person("E2", "is_active") == "false")
            #expect(try await db.person("E1", "is_active") == "true")
            #expect(try await db.person("E3", "is_active") == "true")
            #expect(try await db.person("P1", "is_active", source: "payroll") == "true")
            #expect(try await db.provenanceViolations().isEmpty)

            // An empty snapshot would delete everyone: refused unless asked for.
            let empty = try await CommandProcess.run(["submit", "-", "--format", "csv", "--snapshot"] + Self.person, url: db.url, stdin: "employee_id\n")
            #expect(empty.status == 1, "\(empty.output)")
            #expect(empty.stderr.contains("would delete every record hr has in core.person"), "\(empty.output)")
        }
    }

    // MARK: - Processes

    @Test func aSubmitKilledMidFileLeavesNothing() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let command = try CommandProcess(["submit", "-", "--format", "csv"] + Self.person, url: db.url)
            command.write("employee_id,given_name,family_name\n")
            command.write((1...2000).map { "E\($0),Given \($0),Family \($0)\n" }.joined())
            // Standard input stays open, so the process cannot be done: wait
            // until the server has received rows of its COPY, then kill it.
            let database = try #require(db.url.database)
            var copied = 0
            for _ in 0..<600 where copied == 0 {
                copied = try await db.int(
                    """
                    SELECT coalesce(max(p.tuples_processed), 0) FROM pg_stat_progress_copy p
                      JOIN pg_stat_activity a ON a.pid = p.pid
                     WHERE a.application_name = 'syncledger submit' AND p.datname = \(database)
                    """)
                if copied == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(copied > 0, "the COPY never started")
            // Nothing is visible while the file is being read.
            #expect(try await Self.jobs(db) == [:])
            command.kill(SIGKILL)
            let result = await command.finish()
            #expect(result.status != 0)

            // The server notices the closed connection and rolls back.
            var sessions = 1
            for _ in 0..<600 where sessions > 0 {
                sessions = try await db.int(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'syncledger submit' AND datname = \(database)")
                if sessions > 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(sessions == 0)
            #expect(try await Self.jobs(db) == [:])
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)
        }
    }

    @Test func waitFollowsTheJobAndPrintsItsFirstFailures() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let command = try CommandProcess(["submit", "-", "--format", "csv", "--wait"] + Self.person, url: db.url)
            // A salary below zero casts (so submit takes it) and fails the table's CHECK in the worker.
            command.write("employee_id,given_name,birth_date,salary\nE1,Ann,,-5\nE2,Bob,1991-01-01,\n")
            command.closeInput()
            var submitted = 0
            for _ in 0..<600 where submitted == 0 {
                submitted = try await db.int("SELECT count(*) FROM integration.sync_job WHERE job_status = 'Submitted'")
                if submitted == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            try await db.runWorker()
            let result = await command.finish()
            #expect(result.status == 2, "\(result.output)")
            #expect(result.stdout.contains("CompletedWithErrors: 4 item(s): 2 applied, 1 held, 0 skipped, 1 failed"), "\(result.output)")
            #expect(
                result.stdout.contains("failed: E1 salary: rejected by the database: check constraint person_salary_check refused field salary"),
                "\(result.output)")
        }
    }

    @Test func anUpstreamLoginSubmitsForItsOwnSourceOnly() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await db.submit(items: [.set("E1", "given_name", "Ann"), .set("E2", "given_name", "Bob")])
            try await db.runWorker()
            try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { _, url in
                let run = try await CommandProcess.run(
                    ["submit", "-", "--format", "csv", "--snapshot"] + Self.person, url: url, stdin: "employee_id,given_name\nE1,Ann B\n")
                #expect(run.status == 0, "\(run.output)")
                #expect(run.stdout.contains("1 Delete item(s)"), "\(run.output)")

                let other = try await CommandProcess.run(
                    ["submit", "-", "--format", "csv", "--source", "payroll", "--table", "core.person", "--key", "employee_id"], url: url,
                    stdin: "employee_id,given_name\nP1,Pay\n")
                #expect(other.status == 1, "\(other.output)")
                #expect(other.stderr.contains("may not submit for source system 'payroll'"), "\(other.output)")
            }
            let jobs = try await db.rows(
                "SELECT source_system_key, job_status FROM integration.sync_job ORDER BY job_id")
            #expect(jobs == [["hr", "Completed"], ["hr", "Submitted"]])
            try await db.runWorker()
            #expect(try await db.person("E1", "given_name") == "Ann B")
            #expect(try await db.person("E2", "is_active") == "false")
        }
    }
}
