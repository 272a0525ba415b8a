import ArgumentParser
import Foundation

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
