import ArgumentParser
import Foundation
import Logging
import SyncLedgerPostgres
import SyncLedgerWorker

/// Where the database is.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL, e.g. postgres://user:pass@host:5432/db?sslmode=require (env: DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Directory of the numbered migrations (env: SYNCLEDGER_SQL_DIR).")
    var sqlDir: String?

    /// The URL from the flag or `DATABASE_URL`, or `nil` when neither is set.
    func url() throws -> DatabaseURL? {
        guard let text = databaseURL ?? Environment.string("DATABASE_URL") else { return nil }
        do {
            return try DatabaseURL(parsing: text)
        } catch {
            throw ValidationError(String(describing: error))
        }
    }

    /// The URL, required (commands that must not start a throwaway cluster).
    func requiredURL() throws -> DatabaseURL {
        guard let url = try url() else {
            throw ValidationError("DATABASE_URL is not set: pass --database-url or set DATABASE_URL=postgres://user@host:5432/db")
        }
        return url
    }

    func migrator() throws -> Migrator {
        try Migrator(directory: Migrator.locateDirectory(explicit: sqlDir ?? Environment.string("SYNCLEDGER_SQL_DIR")))
    }
}

/// Reading `SYNCLEDGER_*` settings from the environment.
enum Environment {
    static func string(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// A positive integer from the flag, else the environment, else `fallback`;
    /// refuses anything else with a message naming both spellings.
    static func positiveInt(_ flag: Int?, option: String, variable: String, fallback: Int, allowZero: Bool = false) throws -> Int {
        if let flag {
            guard flag > 0 || (allowZero && flag == 0) else { throw ValidationError("--\(option) must be a positive integer, got \(flag)") }
            return flag
        }
        guard let text = string(variable) else { return fallback }
        guard let value = Int(text), value > 0 || (allowZero && value == 0) else {
            throw ValidationError("\(variable) must be a positive integer (--\(option)), got '\(text)'")
        }
        return value
    }
}

extension Environment {
    /// A yes/no setting: `on`/`off`, `true`/`false`, `yes`/`no`, `1`/`0`; nil when unset.
    static func bool(_ variable: String, option: String) throws -> Bool? {
        guard let text = string(variable) else { return nil }
        switch text.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw ValidationError("\(variable) must be on or off (--\(option)), got '\(text)'")
        }
    }
}

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

/// Unbuffered output, so progress shows as it happens even into a pipe.
enum Console {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
