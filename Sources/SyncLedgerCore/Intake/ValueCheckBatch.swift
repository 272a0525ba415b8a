/// What the database checks of a submitted file's values before anything is
/// submitted, and for which fields: every `Set` value of a column whose type
/// is not `text` (it must cast to the column's type, as the worker will cast
/// it) or that a code list governs (it must be mapped for the source, and its
/// canonical code must cast). `text` columns without a code list take any
/// value, so their values are not sent. `Link` values are keys, not values.
public struct ValueCheckPlan: Sendable {
    /// The source the file speaks for (value maps are per source).
    public let source: String
    public let table: TargetTable
    /// The code list of each field a policy maps through one.
    public let codeLists: [String: String]
    /// The file's column of each field the mapping renames (for messages).
    private let columnOfField: [String: String]

    /// The plan for a file read with `mapping`; `codeLists` as
    /// `integration.intake_code_lists` returns them.
    public init(mapping: ResolvedMapping, codeLists: [String: String]) {
        source = mapping.source
        table = mapping.table
        self.codeLists = codeLists
        var columns: [String: String] = [:]
        for (column, plan) in mapping.explicit.sorted(by: { $0.key < $1.key }) {
            if case .set(let field) = plan, columns[field] == nil { columns[field] = column }
        }
        columnOfField = columns
    }

    /// Whether the database checks the values of `field`.
    public func checks(_ field: String) -> Bool {
        codeLists[field] != nil || table.columns[field]?.needsCastCheck ?? false
    }

    /// The file's column that holds `field`.
    public func column(of field: String) -> String {
        columnOfField[field] ?? field
    }
}

/// One value the database refused (a row of `integration.check_values`):
/// the field, the value's 1-based place in that field's list
/// (``ValueCheckBatch/payload``), and why.
public struct RefusedValue: Sendable, Equatable {
    public var field: String
    public var ordinal: Int
    /// The code list that has no mapping for the value from the source.
    public var unmappedIn: String?
    /// The cast's error, e.g. `date/time field value out of range: "1990-02-30"`.
    public var castError: String?

    public init(field: String, ordinal: Int, unmappedIn: String? = nil, castError: String? = nil) {
        self.field = field
        self.ordinal = ordinal
        self.unmappedIn = unmappedIn
        self.castError = castError
    }
}

/// The values of a stretch of a file that go to the database in one round
/// trip to be checked (``ValueCheckPlan``): per field, each distinct value
/// once, and where in the file each one was. Pure: the shell sends
/// ``payload`` to `integration.check_values` and hands the refusals back to
/// ``badValues(from:)``, which names every line and column they were on.
///
/// An empty cell that clears (`--empty-cells clear`) a NOT NULL column is
/// refused here, without the database.
public struct ValueCheckBatch: Sendable {
    public let plan: ValueCheckPlan

    fileprivate struct FieldValues: Sendable {
        /// Distinct values, in the order first met.
        var values: [String] = []
        var index: [String: Int] = [:]
        /// Each occurrence: its line and its value's index in `values`.
        var occurrences: [(line: Int, value: Int)] = []
    }

    private var fields: [String: FieldValues] = [:]
    /// Fields in the order first met (for a stable order of messages).
    private var fieldOrder: [String] = []
    /// Refused without the database.
    private var local: [BadValue] = []
    /// Values added (occurrences, not distinct values).
    public private(set) var count = 0

    public init(plan: ValueCheckPlan) {
        self.plan = plan
    }

    /// Nothing to send, and nothing refused.
    public var isEmpty: Bool { count == 0 && local.isEmpty }

    /// Notes `item`'s value if its field is checked (``ValueCheckPlan/checks(_:)``).
    public mutating func add(_ item: StagedItem) {
        guard item.operation == .set, let field = item.fieldName else { return }
        guard let value = item.newValue else {
            if plan.table.columns[field]?.isNotNull ?? false {
                local.append(
                    BadValue(
                        line: item.line, column: plan.column(of: field), value: "",
                        reason: "\(plan.table.name).\(field) is NOT NULL: an empty cell cannot clear it",
                        hint: "leave out --empty-cells clear, or fill in the cell"))
            }
            return
        }
        guard plan.checks(field) else { return }
        count += 1
        if fields[field] == nil { fieldOrder.append(field) }
        fields[field, default: FieldValues()].add(value, line: item.line)
    }

    /// The values as `integration.check_values` takes them: a JSON object of
    /// field → array of its distinct values, e.g. `{"salary":["4200.50","x"]}`.
    public var payload: String {
        var json: [UInt8] = [UInt8(ascii: "{")]
        for (position, field) in fieldOrder.enumerated() {
            if position > 0 { json.append(UInt8(ascii: ",")) }
            JSONString.append(field, to: &json)
            json.append(UInt8(ascii: ":"))
            json.append(UInt8(ascii: "["))
            for (index, value) in (fields[field]?.values ?? []).enumerated() {
                if index > 0 { json.append(UInt8(ascii: ",")) }
                JSONString.append(value, to: &json)
            }
            json.append(UInt8(ascii: "]"))
        }
        json.append(UInt8(ascii: "}"))
        return String(decoding: json, as: UTF8.self)
    }

    /// Every occurrence of the refused values, and the values refused
    /// without the database, in file order: one ``BadValue`` each, naming the
    /// line, the file's column, the value and the reason.
    public func badValues(from refused: [RefusedValue]) -> [BadValue] {
        var found: [(bad: BadValue, field: Int)] = local.map { ($0, -1) }
        var byField: [String: [Int: RefusedValue]] = [:]
        for refusal in refused { byField[refusal.field, default: [:]][refusal.ordinal - 1] = refusal }
        for (position, field) in fieldOrder.enumerated() {
            guard let refusals = byField[field], let values = fields[field] else { continue }
            let explained = refusals.mapValues { explain($0) }
            for occurrence in values.occurrences {
                guard let (reason, hint) = explained[occurrence.value] else { continue }
                found.append(
                    (BadValue(
                        line: occurrence.line, column: plan.column(of: field), value: values.values[occurrence.value], reason: reason,
                        hint: hint), position))
            }
        }
        found.sort { ($0.bad.line, $0.field) < ($1.bad.line, $1.field) }
        return found.map(\.bad)
    }

    private func explain(_ refusal: RefusedValue) -> (String, String?) {
        if let codeList = refusal.unmappedIn {
            return (
                "no mapping in code list \(Quote.short(codeList)) from source \(Quote.short(plan.source))",
                "correct the code in the file, or ask an administrator to add it to integration.value_map"
            )
        }
        let type = plan.table.columns[refusal.field]?.sqlType ?? "its type"
        return (
            "does not fit \(plan.table.name).\(refusal.field) of type \(type): \(refusal.castError ?? "refused")",
            "correct the value in the file"
        )
    }
}

extension ValueCheckBatch.FieldValues {
    fileprivate mutating func add(_ value: String, line: Int) {
        let position: Int
        if let known = index[value] {
            position = known
        } else {
            position = values.count
            values.append(value)
            index[value] = position
        }
        occurrences.append((line, position))
    }
}

/// JSON string literals, written straight into a byte buffer.
enum JSONString {
    /// Appends `text` as a JSON string: quoted, with `"`, `\` and control
    /// characters escaped; everything else as its UTF-8.
    static func append(_ text: String, to buffer: inout [UInt8]) {
        var text = text
        buffer.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.append(contentsOf: bytes[start..<index])
                buffer.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.append(byte)
                case 0x0A: buffer.append(UInt8(ascii: "n"))
                case 0x0D: buffer.append(UInt8(ascii: "r"))
                case 0x09: buffer.append(UInt8(ascii: "t"))
                default:
                    let digits = Array("0123456789abcdef".utf8)
                    buffer.append(contentsOf: Array("u00".utf8))
                    buffer.append(digits[Int(byte >> 4)])
                    buffer.append(digits[Int(byte & 0x0F)])
                }
                start = index + 1
            }
            buffer.append(contentsOf: bytes[start..<bytes.count])
        }
        buffer.append(UInt8(ascii: "\""))
    }
}
