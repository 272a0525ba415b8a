import Foundation
import SyncLedgerCore

/// A table with typed columns, for files as spreadsheets export them.
enum SpreadsheetFixtures {
    static let table = TargetTable(
        name: "core.employee", idColumn: "id",
        columns: [
            Column(name: "id", sqlType: "uuid"),
            Column(name: "name", sqlType: "text"),
            Column(name: "salary", sqlType: "numeric(12,2)"),
            Column(name: "headcount", sqlType: "integer"),
            Column(name: "birth_date", sqlType: "date"),
            Column(name: "hired_at", sqlType: "timestamp with time zone"),
            Column(name: "note", sqlType: "text"),
            Column(name: "active", sqlType: "boolean"),
        ])
    static let catalog = Catalog(sources: [SourceSystem(key: "hr")], tables: [table])

    /// HR's employees onto `core.employee`, key `nr`, every other column the field of its name.
    static func mapping(_ configure: (inout IntakeMapping) -> Void = { _ in }) throws -> ResolvedMapping {
        var mapping = IntakeMapping(source: "hr", table: "core.employee", keyColumn: "nr")
        configure(&mapping)
        return try mapping.resolve(in: catalog)
    }

    /// The `(key, field, value)` of each item.
    static func cells(_ items: [StagedItem]) -> [[String?]] {
        items.map { [$0.externalKey, $0.fieldName, $0.newValue] }
    }
}

/// The intake pipeline on a large generated file, timed: bytes in chunks of
/// 256 KiB (as `syncledger submit` reads them) to COPY text (as it stages
/// them). Run by ``IntakeThroughputTests`` when asked.
enum IntakeBenchmark {
    struct Result: CustomStringConvertible {
        var rows: Int
        var items: Int
        var bytes: Int
        /// Wall-clock seconds.
        var seconds: Double
        /// Seconds of this process's CPU time (what a loaded machine does not inflate).
        var cpuSeconds: Double
        /// Items per second of CPU time.
        var itemsPerSecond: Double { Double(items) / cpuSeconds }
        var description: String {
            "\(rows) rows, \(items) items, \(bytes / 1_000_000) MB in \((cpuSeconds * 100).rounded() / 100) s of CPU: "
                + "\(Int(itemsPerSecond)) items/s, \(Int(Double(rows) / cpuSeconds)) rows/s "
                + "(wall clock \((seconds * 100).rounded() / 100) s: \(Int(Double(items) / seconds)) items/s)"
        }
    }

    /// `rows` records of six mapped columns: Excel's way (Windows-1252, `;`,
    /// CRLF, decimal commas, DD/MM/YYYY, trailing unnamed columns) or the
    /// plain way (UTF-8, `,`, ISO).
    static func file(rows: Int, excel: Bool) -> [UInt8] {
        var text = excel ? "nr;name;salary;headcount;birth_date;hired_at;note;;\r\n" : "nr,name,salary,headcount,birth_date,hired_at,note\n"
        var bytes = Array(text.utf8)
        bytes.reserveCapacity(rows * 90)
        for row in 1...rows {
            let day = row % 28 + 1
            let month = row % 12 + 1
            if excel {
                text = "E\(row);Ren\u{E9} M\u{FC}ller \(row);\(row % 9 + 1).\(100 + row % 900),\(10 + row % 90);\(row % 500);"
                    + "\(day)/\(month)/19\(50 + row % 50);\(day).\(month).2020 08:\(10 + row % 50);Pr\u{E4}mie \u{20AC} \(row);;\r\n"
                for scalar in text.unicodeScalars { bytes.append(scalar == "\u{20AC}" ? 0x80 : UInt8(scalar.value)) }
            } else {
                let dd = day < 10 ? "0\(day)" : "\(day)"
                let mm = month < 10 ? "0\(month)" : "\(month)"
                text = "E\(row),Ren\u{E9} M\u{FC}ller \(row),\(row % 9 + 1)\(100 + row % 900).\(10 + row % 90),\(row % 500),"
                    + "19\(50 + row % 50)-\(mm)-\(dd),2020-\(mm)-\(dd) 08:\(10 + row % 50):00Z,Pr\u{E4}mie \u{20AC} \(row)\n"
                bytes.append(contentsOf: text.utf8)
            }
        }
        return bytes
    }

    static func time(_ bytes: [UInt8], options: IntakeOptions, rows: Int) throws -> Result {
        let mapping = try SpreadsheetFixtures.mapping()
        var pipeline = IntakePipeline(options: options, mapping: mapping)
        var copy: [UInt8] = []
        copy.reserveCapacity(512 * 1024)
        let chunk = 256 * 1024
        let start = ContinuousClock.now
        let cpuStart = clock()
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let end = min(offset + chunk, raw.count)
                try pipeline.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { CopyText.append($0, to: &copy) }
                if copy.count >= 256 * 1024 { copy.removeAll(keepingCapacity: true) }
                offset = end
            }
        }
        try pipeline.finish { CopyText.append($0, to: &copy) }
        let elapsed = ContinuousClock.now - start
        let cpuSeconds = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
        precondition(pipeline.records == rows)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(rows: rows, items: pipeline.items, bytes: bytes.count, seconds: seconds, cpuSeconds: cpuSeconds)
    }

    /// Both files, each through the pipeline with its options.
    static func run(rows: Int) throws -> [(String, Result)] {
        let excel = IntakeOptions(
            format: .detectedCSV, encoding: .windows1252, decimalComma: true, dateOrder: .dmy, duplicates: .error)
        return [
            ("excel (windows-1252, ';', decimal comma, DMY)", try time(file(rows: rows, excel: true), options: excel, rows: rows)),
            ("plain (utf-8, ',', ISO)", try time(file(rows: rows, excel: false), options: IntakeOptions(), rows: rows)),
        ]
    }
}
