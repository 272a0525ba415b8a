import Foundation

/// When a value stops protecting itself (SPEC §2 step 4, *Authority*).
///
/// A value is stale when its owning source has not confirmed it for more than
/// `stale_after_days`; a policy without `stale_after_days` never goes stale.
public enum Staleness {
    /// Whether a value last confirmed at `confirmedAt` is stale at `now`.
    /// Exactly `staleAfterDays` old is not yet stale.
    public static func isStale(confirmedAt: Date, staleAfterDays: Int?, now: Date) -> Bool {
        guard let days = staleAfterDays else { return false }
        return now.timeIntervalSince(confirmedAt) > Double(days) * 86_400
    }
}
