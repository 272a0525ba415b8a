import ArgumentParser
import Logging
import SyncLedgerWorker

/// Logging for the commands: stderr, level from `SYNCLEDGER_LOG_LEVEL`,
/// format (`text` or `json`) from `SYNCLEDGER_LOG_FORMAT`.
enum Logs {
    /// The settings from the environment; an unknown value is refused naming
    /// the variable and the values it takes. `SyncLedgerCommand.main` checks
    /// this before any command runs (exit 64).
    static func settings() throws -> LogSettings {
        do {
            return try LogSettings(lookup: Environment.string)
        } catch let invalid as LogSettings.Invalid {
            throw ValidationError(invalid.description)
        }
    }

    static func bootstrap(defaultLevel: Logger.Level = .info) -> Logger {
        let settings = (try? settings()) ?? LogSettings()
        LoggingSystem.bootstrap { label in settings.makeHandler(label: label, defaultLevel: defaultLevel) }
        return Logger(label: "syncledger")
    }
}
