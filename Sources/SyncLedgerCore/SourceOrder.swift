import Foundation

/// Where a statement stands in its source's submissions: the job's
/// `submit_seq` (the order in which jobs became Submitted), then the item's
/// `seq` within the job. A later position is "a later submission" (SPEC §2).
public struct SubmissionPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var submit: Int64
    public var seq: Int64

    public init(submit: Int64, seq: Int64) {
        self.submit = submit
        self.seq = seq
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.submit, lhs.seq) < (rhs.submit, rhs.seq) }

    public var description: String { "submission \(submit), seq \(seq)" }
}

/// What a source has already said about one aspect, kept so that "is there a
/// newer statement?" is answered exactly without reading the history
/// (`integration.source_order`, one row per aspect and source).
///
/// *Newer* (SPEC §2, Out of order): a later `source_timestamp` when both
/// statements carry one, otherwise a later submission. That relation is not
/// a total order (a statement without a timestamp is compared by position
/// with everything), so the marks keep the three maxima it needs.
public struct SourceOrderMarks: Equatable, Sendable {
    /// The latest `source_timestamp` seen, and the latest position among the
    /// statements that carried exactly it.
    public var latestTimestamp: Date?
    public var latestTimestampPosition: SubmissionPosition?
    /// The latest position of any statement.
    public var latest: SubmissionPosition?
    /// The latest position of a statement without a timestamp.
    public var latestWithoutTimestamp: SubmissionPosition?

    public init(
        latestTimestamp: Date? = nil, latestTimestampPosition: SubmissionPosition? = nil, latest: SubmissionPosition? = nil,
        latestWithoutTimestamp: SubmissionPosition? = nil
    ) {
        self.latestTimestamp = latestTimestamp
        self.latestTimestampPosition = latestTimestampPosition
        self.latest = latest
        self.latestWithoutTimestamp = latestWithoutTimestamp
    }

    /// Whether no statement has been recorded.
    public var isEmpty: Bool { latest == nil }

    /// The newer statement already recorded than one made at `timestamp` from
    /// `position`, if there is one: its timestamp, or its position.
    public func newer(than timestamp: Date?, at position: SubmissionPosition) -> NewerStatement? {
        if let timestamp {
            if let latestTimestamp {
                if latestTimestamp > timestamp { return .timestamp(latestTimestamp) }
                if latestTimestamp == timestamp, let tied = latestTimestampPosition, tied > position { return .position(tied) }
            }
            if let untimed = latestWithoutTimestamp, untimed > position { return .position(untimed) }
            return nil
        }
        if let latest, latest > position { return .position(latest) }
        return nil
    }

    /// The marks once a statement made at `timestamp` from `position` is recorded.
    public mutating func record(timestamp: Date?, at position: SubmissionPosition) {
        if let timestamp {
            if let current = latestTimestamp, let tied = latestTimestampPosition,
                current > timestamp || (current == timestamp && tied >= position)
            {
                // an equal or newer timestamp is already recorded
            } else {
                latestTimestamp = timestamp
                latestTimestampPosition = position
            }
        } else if latestWithoutTimestamp.map({ $0 < position }) ?? true {
            latestWithoutTimestamp = position
        }
        if latest.map({ $0 < position }) ?? true { latest = position }
    }
}

/// A statement that makes another one out of date.
public enum NewerStatement: Equatable, Sendable, CustomStringConvertible {
    /// It carried this later `source_timestamp`.
    case timestamp(Date)
    /// It was submitted later, at this position.
    case position(SubmissionPosition)

    public var description: String {
        switch self {
        case .timestamp(let date): "a later source_timestamp (\(date.formatted(.iso8601)))"
        case .position(let position): "a later submission (\(position))"
        }
    }
}
