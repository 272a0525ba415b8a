import Logging

/// How the commands log: level and format, from `SYNCLEDGER_LOG_LEVEL` and
/// `SYNCLEDGER_LOG_FORMAT`. Logs always go to stderr; stdout stays data.
public struct LogSettings: Sendable, Equatable {
    /// `text`: swift-log's usual line (`2026-11-30T09:00:00+0000 info syncledger: worker_id=a:1 [SyncLedger] message`).
    /// `json`: one JSON object per line, metadata as top-level fields (see ``JSONLogHandler``).
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// A setting that is not one of the allowed values.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static let levelVariable = "SYNCLEDGER_LOG_LEVEL"
    public static let formatVariable = "SYNCLEDGER_LOG_FORMAT"

    /// nil: the command's own default level.
    public var level: Logger.Level?
    public var format: Format

    public init(level: Logger.Level? = nil, format: Format = .text) {
        self.level = level
        self.format = format
    }

    /// Reads both variables through `lookup` (unset or empty = default);
    /// refuses any other value, naming the variable and what it accepts.
    public init(lookup: (String) -> String?) throws {
        self.init()
        if let text = lookup(Self.levelVariable), !text.isEmpty {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw Invalid(
                    description:
                        "\(Self.levelVariable) must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            self.level = level
        }
        if let text = lookup(Self.formatVariable), !text.isEmpty {
            guard let format = Format(rawValue: text.lowercased()) else {
                throw Invalid(
                    description: "\(Self.formatVariable) must be one of \(Format.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            self.format = format
        }
    }

    /// A log handler for `label` writing to stderr in this format.
    public func makeHandler(label: String, defaultLevel: Logger.Level) -> any LogHandler {
        switch format {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level ?? defaultLevel
            return handler
        case .json:
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level ?? defaultLevel
            return handler
        }
    }
}
