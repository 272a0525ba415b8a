import Foundation
import Logging
import Synchronization
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// Issue 11: `SYNCLEDGER_LOG_FORMAT=json` writes one JSON object per line
/// with the job and worker ids as fields; invalid log settings are refused at
/// start naming the variable.
@Suite("Logs")
struct LoggingTests {
    /// Every non-empty line of `text` as a JSON object (nil for a line that is not one).
    static func objects(_ text: String) -> [[String: Any]?] {
        text.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    @Test func jsonHandlerWritesOneObjectPerLineWithMetadataAsFields() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "syncledger", write: { line in lines.withLock { $0.append(line) } })
        handler.logLevel = .trace
        handler[metadataKey: "worker_id"] = "host:1"
        var logger = Logger(label: "syncledger", factory: { _ in handler })
        logger[metadataKey: "job_id"] = "42"
        logger.info(
            "a \"quoted\" message\nwith a newline, a tab\tand \u{1}",
            metadata: ["message": "collides", "items": ["1", "2"], "counts": ["applied": "3"], "error": "boom"])

        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        #expect(written[0].hasSuffix("}\n"))
        #expect(written[0].dropLast().contains("\n") == false, "one line per event")
        let object = try #require(Self.objects(written[0]).first ?? nil)
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "syncledger")
        #expect(object["message"] as? String == "a \"quoted\" message\nwith a newline, a tab\tand \u{1}")
        #expect(object["job_id"] as? String == "42")
        #expect(object["worker_id"] as? String == "host:1")
        #expect(object["meta_message"] as? String == "collides")
        #expect(object["items"] as? [String] == ["1", "2"])
        #expect((object["counts"] as? [String: String]) == ["applied": "3"])
        #expect(object["error"] as? String == "boom")
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp) != nil, "\(timestamp)")
    }

    @Test func settingsRefuseUnknownValuesNamingTheVariable() throws {
        #expect(try LogSettings(lookup: { _ in nil }) == LogSettings())
        #expect(try LogSettings(lookup: ["SYNCLEDGER_LOG_LEVEL": "DEBUG", "SYNCLEDGER_LOG_FORMAT": "json"].get) == LogSettings(level: .debug, format: .json))
        #expect(throws: LogSettings.Invalid.self) { try LogSettings(lookup: ["SYNCLEDGER_LOG_LEVEL": "verbose"].get) }
        #expect(throws: LogSettings.Invalid.self) { try LogSettings(lookup: ["SYNCLEDGER_LOG_FORMAT": "logfmt"].get) }
    }

    @Test(arguments: [
        ("SYNCLEDGER_LOG_LEVEL", "loud", "SYNCLEDGER_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
        ("SYNCLEDGER_LOG_FORMAT", "xml", "SYNCLEDGER_LOG_FORMAT must be one of text, json, got 'xml'"),
    ])
    func invalidSettingStopsEveryCommandAtStart(variable: String, value: String, message: String) async throws {
        for arguments in [["status"], ["worker", "--exit-when-idle"], ["migrate"]] {
            let run = try await CommandRun.run(
                arguments, environment: ["DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable", variable: value],
                bound: .seconds(30))
            #expect(run.status == 64, "\(arguments): \(run)")
            #expect(run.stderr.contains(message), "\(arguments): \(run)")
        }
    }

    /// A worker with `SYNCLEDGER_LOG_FORMAT=json` processing a job: every
    /// line on stderr is a JSON object, and the job's lines carry `job_id`
    /// and `worker_id` as fields.
    @Test func workerWritesJSONLines() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Scenario.standard)
            let jobID = try await db.submit(items: [.set("E1", "given_name", "Ann"), .set("E1", "emial", "x")])
            let run = try await CommandRun.run(
                ["worker", "--exit-when-idle", "--worker-id", "json-worker"],
                environment: ["DATABASE_URL": CommandRun.databaseURL(db.url), "SYNCLEDGER_LOG_FORMAT": "json", "SYNCLEDGER_LOG_LEVEL": "debug"],
                bound: .seconds(120))
            #expect(run.status == 0, "\(run)")
            let objects = Self.objects(run.stderr)
            #expect(!objects.isEmpty)
            for (index, object) in objects.enumerated() {
                #expect(object != nil, "line \(index + 1) is not a JSON object: \(run.stderr.split(separator: "\n")[index])")
                #expect(object?["timestamp"] is String && object?["level"] is String && object?["message"] is String)
            }
            // Typed fields (issue 21): `job_id` and `duration_ms` are numbers,
            // `status` a field of its own, and the driver's chatter stays out
            // at info.
            let jobLines = objects.compactMap { $0 }.filter { ($0["job_id"] as? NSNumber)?.int64Value == jobID }
            #expect(!jobLines.isEmpty, "no line with job_id \(jobID) as a number: \(run.stderr.suffix(3000))")
            #expect(jobLines.allSatisfy { ($0["worker_id"] as? String) == "json-worker" })
            #expect(!objects.compactMap { $0 }.contains { $0["job_id"] is String }, "job_id as a string: \(run.stderr.suffix(3000))")
            let finished = try #require(jobLines.first { ($0["message"] as? String) == "job finished" }, "\(run.stderr.suffix(3000))")
            #expect(finished["duration_ms"] is NSNumber && !(finished["duration_ms"] is String))
            #expect(finished["status"] as? String == "CompletedWithErrors")
            #expect((finished["items_failed"] as? NSNumber)?.intValue == 1)
            #expect((finished["items_applied"] as? NSNumber)?.intValue == 1)
        }
    }

    /// The text format stays the default.
    @Test func textIsTheDefaultFormat() async throws {
        try await TestDatabase.with { db in
            let run = try await CommandRun.run(
                ["status"], environment: ["DATABASE_URL": CommandRun.databaseURL(db.url), "SYNCLEDGER_LOG_LEVEL": "debug"], bound: .seconds(60))
            #expect(run.status == 0, "\(run)")
            #expect(!run.stderr.isEmpty)
            #expect(Self.objects(run.stderr).allSatisfy { $0 == nil })
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

extension Dictionary where Key == String, Value == String {
    /// `dictionary.get` as a lookup function.
    var get: (String) -> String? { { self[$0] } }
}
