import Logging

/// Typed log metadata: numbers stay numbers in JSON logs
/// (``JSONLogHandler`` writes a `stringConvertible` integer, floating-point
/// number or Boolean as a JSON number or Boolean), and read as before in
/// text logs. Strings stay strings: a value that only looks like a number (a
/// job key `00123`) is never turned into one.
extension Logger.MetadataValue {
    /// An integer.
    package static func int(_ value: Int) -> Self { .stringConvertible(value) }
    /// An integer.
    package static func int64(_ value: Int64) -> Self { .stringConvertible(value) }
    /// A floating-point number, rounded to `digits` decimals.
    package static func number(_ value: Double, digits: Int = 1) -> Self {
        var scale = 1.0
        for _ in 0..<max(0, digits) { scale *= 10 }
        return .stringConvertible(value.isFinite ? (value * scale).rounded() / scale : 0)
    }
    /// A duration in whole milliseconds (for `duration_ms` and the like).
    package static func milliseconds(_ duration: Duration) -> Self {
        .stringConvertible(Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000))
    }
    /// A duration in seconds, with milliseconds.
    package static func seconds(_ duration: Duration) -> Self { number(duration.seconds, digits: 3) }
    /// Job ids: an array of numbers.
    package static func jobIDs(_ ids: [Int64]) -> Self { .array(ids.map { .int64($0) }) }
}

extension Logger {
    /// This logger with the claim's jobs in its metadata: `job_id` (a
    /// number) when it holds one job, `job_ids` (an array of numbers) when
    /// it holds several, so that `job_id` is always one number.
    func withJobs(_ ids: [Int64]) -> Logger {
        var logger = self
        if ids.count == 1 {
            logger[metadataKey: "job_id"] = .int64(ids[0])
        } else {
            logger[metadataKey: "job_ids"] = .jobIDs(ids)
        }
        return logger
    }
}
