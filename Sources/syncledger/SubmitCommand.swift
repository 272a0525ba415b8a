import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#endif

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a CSV or JSON Lines file as one inbound job: one item per mapped column of each record.",
        discussion: """
            Each record (a CSV row after the header row, or a JSON object per line) is one record of the target table, \
            identified by its external key; every other column becomes one item for the field of the same name (Set), \
            unless a mapping file says otherwise. Everything is checked before anything is written (the source, the \
            table, every column, the key column), and a file that is malformed anywhere, or a submission killed \
            half-way, leaves nothing behind: the file is staged with COPY in one transaction, and the job becomes \
            Submitted only when the whole file is in.

            Files as spreadsheets write them: the CSV delimiter (a comma, semicolon or tab) is detected from the header \
            unless --delimiter names it; empty unnamed columns at the end of the header are ignored; --encoding reads \
            Windows-1252 or ISO-8859-1 (UTF-8 is the default, a byte order mark is honoured); --decimal-comma reads \
            4200,50; --date-format DMY or MDY reads 07/03/1985 in that order (a date the format does not read exactly \
            is refused, never read another way).

            Every value is checked before anything is submitted, as the worker will check it: cast to its column's \
            type, and mapped through its code list where a policy names one. Bad values are listed with their line, \
            column and reason (the first 20, and how many in all); by default nothing is submitted (--on-bad-rows \
            refuse); with --on-bad-rows skip the records with a bad value are left out and their lines listed. A key \
            that appears twice in the file is refused, naming both lines, unless --duplicates last-wins.

            The job_key is by default a SHA-256 of the file and the mapping, so submitting the same file again does \
            nothing and says which job it was (exit 0). With --snapshot the file is the source's complete set of \
            records for the table: records syncledger knows from that source which the file lacks get Delete items.

            Examples:
              # people.csv:  employee_id,given_name,family_name,email
              syncledger submit people.csv \\
                  --source hr --table core.person --key employee_id

              # The nightly complete extract: records missing from it are
              # deleted; then wait for a worker to process the job.
              syncledger submit people.csv --snapshot --wait \\
                  --source hr --table core.person --key employee_id

              # JSON Lines from a pipe.
              hr-export | syncledger submit - --format jsonl \\
                  --source hr --table core.person --key employee_id

              # Other column names, a link, a timestamp, ignored columns.
              syncledger submit extract.csv --mapping hr-people.json

              # Excel's "CSV" in a European locale: ';', Windows-1252,
              # 4200,50 and 07/03/1985 (7 March); submit what is good.
              syncledger submit salaries.csv --encoding windows-1252 \\
                  --decimal-comma --date-format DMY --on-bad-rows skip \\
                  --source payroll --table core.person --key employee_id

            A mapping file (JSON; every key optional; flags win):
              {"source": "hr", "table": "core.person", "key": "employee_id",
               "source_timestamp": "changed_at",
               "columns": {
                 "first_name": "given_name",
                 "employer": {"field": "employer_id",
                              "link": "core.organisation"},
                 "internal_note": null},
               "ignore": ["payroll_ref"],
               "other_columns": "fields", "empty_cells": "leave"}
            "other_columns": "ignore" submits only the columns listed. A Link column holds the related record's \
            external key in the same source (resolved through the crosswalk; a stub record is created if unknown).

            Exit status: 0 submitted (with --on-bad-rows skip, also when records were left out: they are listed), \
            already submitted, or nothing to submit; 1 refused (the message names the line and column of every bad \
            value) or a database error. With --wait: 0 when the job Completed, 2 when items failed \
            (CompletedWithErrors) or the job Failed.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("The file: CSV with a header row, or JSON Lines; - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: "The source system the file comes from (source_system_key), e.g. hr.")
    var source: String?

    @Option(help: "The target table, schema.table, e.g. core.person.")
    var table: String?

    @Option(help: "The column holding each record's external key, e.g. employee_id.")
    var key: String?

    @Option(help: "A mapping file (JSON): columns to fields, Link columns, the source_timestamp column, ignored columns.")
    var mapping: String?

    @Option(help: "The column holding when the source changed the record (ISO 8601; without an offset: UTC).")
    var sourceTimestamp: String?

    @Option(help: ArgumentHelp("Leave this column out (repeatable).", valueName: "column"))
    var ignore: [String] = []

    @Option(
        help: ArgumentHelp(
            "This column holds the related record's external key for the foreign-key field of the same name: Link items (repeatable).",
            valueName: "column"))
    var link: [String] = []

    @Option(help: ArgumentHelp("Empty cells: leave (no item: the field keeps its value; default) or clear (the field becomes NULL).", valueName: "leave|clear"))
    var emptyCells: String?

    @Option(help: ArgumentHelp("csv, tsv or jsonl (default: from the file name's extension; csv for standard input).", valueName: "format"))
    var format: String?

    @Option(
        help: ArgumentHelp(
            "The CSV delimiter: one character, or comma, semicolon, tab, pipe (default: detected from the header; a tab for tsv).",
            valueName: "delimiter"))
    var delimiter: String?

    @Option(
        help: ArgumentHelp(
            "The file's encoding: utf-8 (default; a byte order mark is honoured), windows-1252 (Excel's plain \"CSV\"), iso-8859-1, utf-16le, utf-16be.",
            valueName: "encoding"))
    var encoding: String?

    @Flag(help: "Numbers in numeric columns are written with a decimal comma (4200,50; 1.234,56).")
    var decimalComma = false

    @Option(
        help: ArgumentHelp(
            "The order of dates that do not start with the year: YMD (default: ISO, 1985-03-07), DMY (07/03/1985 is 7 March), MDY (3 July).",
            valueName: "YMD|DMY|MDY"))
    var dateFormat: String?

    @Option(
        help: ArgumentHelp(
            "A key that appears twice in the file: error (default: refused, naming both lines) or last-wins.", valueName: "error|last-wins"))
    var duplicates: String?

    @Option(
        help: ArgumentHelp(
            "Records with a bad value: refuse (default: nothing is submitted) or skip (the rest is submitted, their lines listed).",
            valueName: "refuse|skip"))
    var onBadRows: String?

    @Flag(help: "The file is the source's complete set of records for the table: records it lacks get Delete items.")
    var snapshot = false

    @Flag(help: "With --snapshot, accept a file without records (it deletes every record of the source).")
    var allowEmptySnapshot = false

    @Option(help: "The job's job_key (default: a SHA-256 of the file and mapping, so the same file is submitted once).")
    var jobKey: String?

    @Option(help: "Job priority; higher is claimed first.")
    var priority: Int = 0

    @Flag(help: "Wait until a worker has processed the job; print its counts and first failures.")
    var wait = false

    func validate() throws {
        do {
            _ = try intakeOptions()
        } catch {
            throw ValidationError(error.description)
        }
        _ = try emptyCellRule()
        if let jobKey, jobKey.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--job-key must not be empty") }
        guard Int32(exactly: priority) != nil else { throw ValidationError("--priority must fit a 32-bit integer") }
        _ = try connection.requiredURL()
    }

    /// How the file is written (``IntakeOptions``), from the flags.
    private func intakeOptions() throws(IntakeError) -> IntakeOptions {
        try IntakeOptions.parse(
            format: format, delimiter: delimiter, encoding: encoding, decimalComma: decimalComma, dateFormat: dateFormat,
            duplicates: duplicates, onBadRows: onBadRows, fileName: file)
    }

    private func emptyCellRule() throws -> EmptyCells? {
        guard let emptyCells else { return nil }
        guard let rule = EmptyCells(rawValue: emptyCells) else {
            throw ValidationError("--empty-cells must be leave or clear, got '\(emptyCells)'")
        }
        return rule
    }

    /// The mapping file, then the flags over it.
    private func intakeMapping() throws -> IntakeMapping {
        var result = IntakeMapping()
        if let mapping {
            guard let data = FileManager.default.contents(atPath: mapping) else {
                throw IntakeError(.unreadable, "cannot read the mapping file \(mapping)")
            }
            result = try IntakeMapping.parse(json: data, file: mapping)
        }
        if let source { result.source = source }
        if let table { result.table = table }
        if let key { result.keyColumn = key }
        if let sourceTimestamp { result.sourceTimestampColumn = sourceTimestamp }
        for column in ignore { result.columns[column] = .ignore }
        for column in link { result.columns[column] = .link(field: column, relatedTable: nil) }
        if let rule = try emptyCellRule() { result.emptyCells = rule }
        return result
    }

    func run() async throws {
        var request: SubmitRequest
        let input: IntakeInput
        do {
            request = SubmitRequest(mapping: try intakeMapping(), options: try intakeOptions())
            input = try IntakeInput(path: file)
        } catch let error as IntakeError {
            StewardCommand.note("error: \(error)")
            throw ExitCode.failure
        }
        request.snapshot = snapshot
        request.allowEmptySnapshot = allowEmptySnapshot
        request.jobKey = jobKey
        request.priority = priority
        let (request_, wait) = (request, wait)
        let progress = isatty(STDERR_FILENO) == 1 ? ProgressDisplay() : nil
        if file == "-" && isatty(STDIN_FILENO) == 1 {
            StewardCommand.note("reading \(request.format.name) from the terminal; end with Ctrl-D")
        }

        // Two connections: the file's COPY, and the checks of its values.
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger submit", connections: 2) { client, logger in
            let outcome: SubmitOutcome
            do {
                let submitter = FileSubmitter(client: client, logger: logger)
                if let progress {
                    outcome = try await withThrowingTaskGroup(of: SubmitOutcome?.self) { group in
                        group.addTask {
                            while !Task.isCancelled {
                                try? await Task.sleep(for: .seconds(1))
                                progress.tick()
                            }
                            return nil
                        }
                        defer { group.cancelAll() }
                        return try await submitter.submit(input, request_, progress: progress.show)
                    }
                    progress.finish()
                } else {
                    outcome = try await submitter.submit(input, request_)
                }
            } catch let error as IntakeError {
                progress?.clear()
                StewardCommand.note("error: \(error)\nnothing was submitted")
                throw ExitCode.failure
            }
            let jobID: Int64
            switch outcome {
            case .submitted(let receipt):
                var line = "submitted job \(receipt.jobID): \(IntakeProgress.grouped(receipt.items)) item(s) from "
                    + "\(IntakeProgress.grouped(receipt.records)) record(s) of \(input.name) (\(receipt.source), \(receipt.table))"
                if request_.snapshot {
                    line += ", \(IntakeProgress.grouped(receipt.deletes)) Delete item(s) for records missing from the snapshot"
                }
                if let skipped = receipt.skipped {
                    line += "; \(IntakeProgress.grouped(skipped.lines.count)) record(s) with a bad value left out"
                    StewardCommand.note(Self.skippedText(skipped, file: input.name))
                }
                Console.print(line)
                Console.print("job_key \(receipt.jobKey)")
                jobID = receipt.jobID
            case .alreadySubmitted(let existing, let key):
                Console.print("\(input.name) was already submitted as job \(existing) (job_key \(key)): nothing to do")
                jobID = existing
            case .nothingToSubmit(let records):
                Console.print(
                    "\(input.name): nothing to submit (\(IntakeProgress.grouped(records)) record(s), no mapped cell with a value"
                        + (request_.snapshot ? ", and no record missing from the snapshot" : "") + ")")
                return
            }
            guard wait else { return }
            try await Self.follow(jobID, client: client, logger: logger)
        }
    }

    /// What `--on-bad-rows skip` left out: the bad values (up to the limit,
    /// with their count) and the lines of the records skipped.
    static func skippedText(_ skipped: SkippedRecords, file: String) -> String {
        var error = IntakeError(.invalidValue, skipped.badValues.summary)
        error.badValues = skipped.badValues
        let shown = skipped.lines.prefix(50).map(String.init).joined(separator: ", ")
        let more = skipped.lines.count > 50 ? " … and \(skipped.lines.count - 50) more" : ""
        return "warning: \(error.in(file: file))\nskipped the record(s) on line(s) \(shown)\(more)"
    }

    /// `--wait`: the job's end, its counts and first failures; exit 2 when items failed.
    static func follow(_ jobID: Int64, client: PostgresClient, logger: Logger) async throws {
        StewardCommand.note("waiting for a worker to process job \(jobID) …")
        let outcome = try await JobWatch(client: client, logger: logger).wait(for: jobID) { status in
            if status == .processing { StewardCommand.note("job \(jobID) is being processed") }
        }
        Console.print(
            "job \(jobID) \(outcome.status.rawValue): \(IntakeProgress.grouped(outcome.total)) item(s): "
                + "\(IntakeProgress.grouped(outcome.applied)) applied, \(IntakeProgress.grouped(outcome.held)) held, "
                + "\(IntakeProgress.grouped(outcome.skipped)) skipped, \(IntakeProgress.grouped(outcome.failed)) failed")
        if let lastError = outcome.lastError { Console.print("last error: \(lastError)") }
        for failure in outcome.failures {
            Console.print(
                "  failed: \(failure.externalKey ?? "?")\(failure.field.map { " \($0)" } ?? ""): \(failure.message ?? "(no message)")")
        }
        if outcome.failed > outcome.failures.count {
            Console.print(
                "  … and \(IntakeProgress.grouped(outcome.failed - outcome.failures.count)) more: "
                    + "SELECT * FROM integration.sync_item WHERE job_id = \(jobID) AND item_status = 'Failed' ORDER BY seq")
        }
        if outcome.status != .completed { throw ExitCode(2) }
    }
}
