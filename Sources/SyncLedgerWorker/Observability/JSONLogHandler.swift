import Foundation
import Logging
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// swift-log handler writing one JSON object per line to stderr, for log
/// shippers (journald → Loki, Vector, Fluent Bit):
///
/// ```json
/// {"timestamp":"2026-11-30T09:00:00.123Z","level":"info","label":"syncledger","message":"job finished","worker_id":"db1:2","job_id":"42"}
/// ```
///
/// Metadata becomes top-level fields (`job_id`, `worker_id`, `error`, ...);
/// nested metadata becomes JSON arrays and objects. Typed metadata keeps its
/// type: an integer, a floating-point number or a Boolean given as
/// `.stringConvertible` (see `Logger.MetadataValue.int` and its siblings) is
/// a JSON number or Boolean, so a log shipper compares `job_id`, `status`,
/// `duration_ms` and the counts as values; strings stay strings. A metadata
/// key that collides with one of the fixed fields is written as `meta_<key>`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// The fixed fields of every line, in order.
    public static let fixedFields = ["timestamp", "level", "label", "message", "source"]

    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, metadataProvider: metadataProvider, write: StandardError.emit)
    }

    /// For tests: lines go to `write` instead of stderr.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        if let error = event.error, fields["error"] == nil { fields["error"] = "\(error)" }

        var line = "{"
        Self.appendField("timestamp", string: Self.timestamp(), to: &line, first: true)
        Self.appendField("level", string: event.level.rawValue, to: &line)
        Self.appendField("label", string: label, to: &line)
        Self.appendField("message", string: event.message.description, to: &line)
        Self.appendField("source", string: event.source, to: &line)
        for key in fields.keys.sorted() {
            let name = Self.fixedFields.contains(key) ? "meta_\(key)" : key
            line += ","
            JSONText.append(name, to: &line)
            line += ":"
            Self.appendValue(fields[key]!, to: &line)
        }
        line += "}\n"
        write(line)
    }

    // MARK: - JSON

    private static func appendField(_ name: String, string: String, to line: inout String, first: Bool = false) {
        if !first { line += "," }
        JSONText.append(name, to: &line)
        line += ":"
        JSONText.append(string, to: &line)
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let text):
            JSONText.append(text, to: &line)
        case .stringConvertible(let convertible):
            if let number = jsonNumber(convertible) {
                line += number
            } else {
                JSONText.append(convertible.description, to: &line)
            }
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        case .dictionary(let dictionary):
            line += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                JSONText.append(key, to: &line)
                line += ":"
                appendValue(dictionary[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// `value` as a JSON number or Boolean literal, if it is an integer, a
    /// finite floating-point number or a Boolean.
    static func jsonNumber(_ value: any CustomStringConvertible & Sendable) -> String? {
        switch value {
        case let flag as Bool: return flag ? "true" : "false"
        case let integer as any BinaryInteger: return "\(integer)"
        case let number as Double: return number.isFinite ? "\(number)" : nil
        case let number as Float: return number.isFinite ? "\(number)" : nil
        default: return nil
        }
    }

    /// Now as `2026-11-30T09:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):"
            + "\(two(parts.tm_sec)).\(fraction)Z"
    }
}
