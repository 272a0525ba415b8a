import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// Issue 19: `syncledger submit` reads files as spreadsheets write them and
/// checks every value before anything is submitted; an upstream's login sees
/// its own jobs and decisions with `syncledger status`. Run as the built
/// binary against the real database.
@Suite("syncledger submit: spreadsheet files, values checked first; status for an upstream")
struct SubmitChecksTests {
    static let person = SubmitTests.person

    /// Writes `bytes` to a file named `name` in `directory`.
    static func file(_ name: String, bytes: [UInt8], in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// The pending or applied ledger value of HR's `key` for `field`, newest first.
    static func ledgerValue(_ db: TestDatabase, _ key: String, _ field: String) async throws -> String? {
        try await db.text(
            """
            SELECT l.value FROM integration.ledger l
              JOIN integration.identifier i ON i.target_id = l.target_id AND i.target_table = l.target_table
             WHERE i.source_system_key = 'hr' AND i.external_key = \(key) AND l.aspect_key = \(field)
             ORDER BY l.ledger_id DESC LIMIT 1
            """)
    }

    @Test func anExcelExportLandsWithTheRightValues() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await SubmitTests.withDirectory { directory in
                // Excel's plain "CSV" in a French locale: ';', CRLF, Windows-1252
                // (0xE9 is é), decimal commas, DD/MM/YYYY, trailing unnamed columns.
                // "é" stands for the byte 0xE9 here.
                let text =
                    "employee_id;given_name;family_name;salary;birth_date;marital_status;;\r\n"
                    + "E1;Amélie;Poulain;4200,50;07/03/1985;S;;\r\nE2;José;Bové;1.234,56;28/02/1990;M;;\r\n"
                let windows1252: [UInt8] = text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
                let excel = try Self.file("excel.csv", bytes: windows1252, in: directory)
                // Read as UTF-8: refused, with the encoding to pass.
                let utf8 = try await CommandProcess.run(["submit", excel] + Self.person, url: db.url)
                #expect(utf8.status == 1, "\(utf8.output)")
                #expect(utf8.stderr.contains("hint: pass --encoding windows-1252"), "\(utf8.output)")
                // Without the number and date conventions: refused, cell by cell, nothing submitted.
                let plain = try await CommandProcess.run(["submit", excel] + Self.person + ["--encoding", "windows-1252"], url: db.url)
                #expect(plain.status == 1, "\(plain.output)")
                #expect(plain.stderr.contains("line 2, column 'salary': '4200,50'"), "\(plain.output)")
                #expect(plain.stderr.contains("line 2, column 'birth_date': '07/03/1985'"), "\(plain.output)")
                #expect(plain.stderr.contains("nothing was submitted"), "\(plain.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)

                let run = try await CommandProcess.run(
                    ["submit", excel] + Self.person + ["--encoding", "windows-1252", "--decimal-comma", "--date-format", "DMY"], url: db.url)
                #expect(run.status == 0, "\(run.output)")
                #expect(run.stdout.contains("10 item(s) from 2 record(s)"), "\(run.output)")

                // UTF-8 with a byte order mark, a tab-delimited file, detected.
                let bom = try Self.file(
                    "bom.csv", bytes: [0xEF, 0xBB, 0xBF] + Array("employee_id\tgiven_name\tsalary\t\r\nE3\tZoë\t12,5\t\r\n".utf8),
                    in: directory)
                let second = try await CommandProcess.run(["submit", bom] + Self.person + ["--decimal-comma"], url: db.url)
                #expect(second.status == 0, "\(second.output)")
            }
            try await db.runWorker()
            #expect(try await db.person("E1", "given_name") == "Amélie")
            #expect(try await db.person("E2", "family_name") == "Bové")
            #expect(try await db.person("E1", "salary") == "4200.50")
            #expect(try await db.person("E2", "salary") == "1234.56")
            #expect(try await db.person("E1", "marital_status") == "single")
            #expect(try await db.person("E2", "marital_status") == "married")
            // birth_date is OnCertify: held, with the date read day first.
            #expect(try await Self.ledgerValue(db, "E1", "birth_date") == "1985-03-07")
            #expect(try await Self.ledgerValue(db, "E2", "birth_date") == "1990-02-28")
            #expect(try await db.person("E3", "given_name") == "Zoë")
            #expect(try await db.person("E3", "salary") == "12.50")
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Failed'") == 0)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    static let badFile = """
        employee_id,given_name,birth_date,salary,marital_status
        E1,Ann,1985-03-07,10.00,M
        E2,Bob,07/03/1985,20.00,S
        E3,Cy,1990-02-30,30.00,M
        E4,Di,1990-01-01,forty,M
        E5,Ed,1990-01-01,-5,X
        E6,Flo,1991-01-01,60.00,S

        """

    @Test func badValuesAreRefusedAtSubmitWithLineAndColumnAndNothingIsSubmitted() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await SubmitTests.withDirectory { directory in
                let path = try SubmitTests.file("people.csv", Self.badFile, in: directory)
                let run = try await CommandProcess.run(["submit", path] + Self.person, url: db.url)
                #expect(run.status == 1, "\(run.output)")
                let err = run.stderr
                #expect(err.contains("people.csv: 4 values do not fit their column (all 4 below)"), "\(run.output)")
                // The file's conventions: a day-first date without --date-format DMY.
                #expect(err.contains("line 3, column 'birth_date': '07/03/1985'"), "\(run.output)")
                // The database's casts and value maps.
                #expect(err.contains("line 4, column 'birth_date': '1990-02-30': does not fit core.person.birth_date of type date"), "\(run.output)")
                #expect(err.contains("line 5, column 'salary': 'forty': does not fit core.person.salary of type numeric(10,2)"), "\(run.output)")
                #expect(err.contains("line 6, column 'marital_status': 'X': no mapping in code list 'marital_status' from source 'hr'"), "\(run.output)")
                #expect(err.contains("nothing was submitted"), "\(run.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)
                #expect(try await db.int("SELECT count(*) FROM integration.sync_item") == 0)

                // An ambiguous or impossible date in the chosen order is refused, never read another way.
                let dates = try SubmitTests.file(
                    "dates.csv", "employee_id,birth_date\nE1,13/01/1985\nE2,1/2/85\nE3,02/01/1985\n", in: directory)
                let mdy = try await CommandProcess.run(["submit", dates] + Self.person + ["--date-format", "MDY"], url: db.url)
                #expect(mdy.status == 1, "\(mdy.output)")
                #expect(mdy.stderr.contains("line 2, column 'birth_date': '13/01/1985'"), "\(mdy.output)")
                #expect(mdy.stderr.contains("line 3, column 'birth_date': '1/2/85'"), "\(mdy.output)")
                #expect(!mdy.stderr.contains("line 4"), "\(mdy.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)
            }
        }
    }

    @Test func skipSubmitsTheGoodRecordsAndListsTheOthers() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await SubmitTests.withDirectory { directory in
                let path = try SubmitTests.file("people.csv", Self.badFile, in: directory)
                let run = try await CommandProcess.run(["submit", path] + Self.person + ["--on-bad-rows", "skip"], url: db.url)
                #expect(run.status == 0, "\(run.output)")
                #expect(run.stdout.contains("4 record(s) with a bad value left out"), "\(run.output)")
                #expect(run.stderr.contains("skipped the record(s) on line(s) 3, 4, 5, 6"), "\(run.output)")
                #expect(run.stderr.contains("line 5, column 'salary': 'forty'"), "\(run.output)")
                let keys = try await db.rows("SELECT DISTINCT external_key FROM integration.sync_item ORDER BY 1").map { $0[0] ?? "" }
                #expect(keys == ["E1", "E6"])

                // The same file again, still with the same bad lines: the same submission.
                let again = try await CommandProcess.run(["submit", path] + Self.person + ["--on-bad-rows", "skip"], url: db.url)
                #expect(again.stdout.contains("was already submitted as job"), "\(again.output)")
            }
            try await db.runWorker()
            #expect(try await db.person("E1", "salary") == "10.00")
            #expect(try await db.person("E6", "marital_status") == "single")
            #expect(try await db.person("E5", "given_name") == nil)
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item WHERE item_status = 'Failed'") == 0)
        }
    }

    @Test func aKeyTwiceInOneFileIsRefusedNamingBothLinesUnlessTheLastWins() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            try await SubmitTests.withDirectory { directory in
                let path = try SubmitTests.file(
                    "people.csv", "employee_id,given_name\nE1,Ann\nE2,Bob\nE1,Anna\n", in: directory)
                let run = try await CommandProcess.run(["submit", path] + Self.person, url: db.url)
                #expect(run.status == 1, "\(run.output)")
                #expect(run.stderr.contains("line 4, column 'employee_id': 'E1'"), "\(run.output)")
                #expect(run.stderr.contains("line 2"), "\(run.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)
                // Skipping bad rows does not make a repeated key good.
                let skip = try await CommandProcess.run(["submit", path] + Self.person + ["--on-bad-rows", "skip"], url: db.url)
                #expect(skip.status == 1, "\(skip.output)")
                #expect(try await db.int("SELECT count(*) FROM integration.sync_job") == 0)

                let last = try await CommandProcess.run(["submit", path] + Self.person + ["--duplicates", "last-wins"], url: db.url)
                #expect(last.status == 0, "\(last.output)")
                #expect(last.stdout.contains("2 item(s)"), "\(last.output)")
            }
            try await db.runWorker()
            #expect(try await db.person("E1", "given_name") == "Anna")
            #expect(try await db.person("E2", "given_name") == "Bob")
        }
    }

    @Test func anUpstreamsStatusShowsItsOwnJobsFailuresAndDecisionsAndNothingElse() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            // Another system's job, which the upstream must not see.
            try await db.submit(source: "payroll", key: "payroll-secret-batch", items: [.set("P1", "given_name", "Paula")])
            try await withLoginRole(db, "hr_loader", in: ["syncledger_upstream"], for: "hr") { _, url in
                let run = try await CommandProcess.run(
                    ["submit", "-", "--format", "csv", "--job-key", "hr-nightly-7"] + Self.person, url: url,
                    stdin: "employee_id,given_name,email,marital_status\nE1,Ann,ann@hr.example,M\nE2,Bob,bob@hr.example,S\n")
                #expect(run.status == 0, "\(run.output)")
                try await db.exec("ALTER TABLE core.person ADD CONSTRAINT no_bob CHECK (email <> 'bob@hr.example')")
                try await db.runWorker()
                // A steward rejects HR's email for E1 with a reason code.
                try await db.exec(
                    """
                    SELECT integration.reject(l.ledger_id, 'alice', 'not this address', 'wrong_value')
                      FROM integration.ledger l JOIN integration.identifier i ON i.target_id = l.target_id
                     WHERE i.source_system_key = 'hr' AND i.external_key = 'E1' AND l.aspect_key = 'email'
                    """)
                let status = try await CommandProcess.run(["status"], url: url)
                #expect(status.status == 0, "\(status.output)")
                let out = status.stdout
                #expect(out.contains("upstream view: source system(s) hr"), "\(status.output)")
                #expect(out.contains("hr-nightly-7"), "\(status.output)")
                #expect(out.contains("CompletedWithErrors"), "\(status.output)")
                #expect(out.contains("check constraint no_bob refused field email"), "\(status.output)")
                #expect(out.contains("Rejected") && out.contains("wrong_value") && out.contains("not this address"), "\(status.output)")
                #expect(!out.contains("payroll-secret-batch") && !out.contains("Paula"), "\(status.output)")
                #expect(!status.output.contains("permission denied"), "\(status.output)")

                let json = try await CommandProcess.run(["status", "--json"], url: url)
                #expect(json.status == 0, "\(json.output)")
                let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
                let jobs = document?["jobs"] as? [[String: Any]]
                #expect(jobs?.count == 1)
                #expect(jobs?.first?["job_key"] as? String == "hr-nightly-7")
                #expect(jobs?.first?["failed"] as? Int == 1)
                #expect((document?["decisions"] as? [[String: Any]])?.first?["reason_code"] as? String == "wrong_value")
            }
        }
    }
}
