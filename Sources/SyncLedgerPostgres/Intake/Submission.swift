import SyncLedgerCore

/// What `syncledger submit` is asked to do with a file.
public struct SubmitRequest: Sendable {
    public var mapping: IntakeMapping
    public var format: IntakeFormat
    /// The file is the source's complete set of records for the table:
    /// records the crosswalk knows for that source and the file lacks get
    /// `Delete` items.
    public var snapshot = false
    /// A snapshot with no records deletes every record of the source; refused
    /// unless this is set.
    public var allowEmptySnapshot = false
    /// The job's `job_key`; by default the content key (``SubmissionKey``).
    public var jobKey: String?
    public var priority = 0

    public init(mapping: IntakeMapping, format: IntakeFormat) {
        self.mapping = mapping
        self.format = format
    }
}

/// What a submission did.
public enum SubmitOutcome: Sendable, Equatable {
    /// A new job, Submitted.
    case submitted(SubmitReceipt)
    /// The same content (and mapping) is the source's latest submission for
    /// the table, as this job (or the same explicit `--job-key` was used
    /// before): nothing was written.
    case alreadySubmitted(jobID: Int64, jobKey: String)
    /// No item to submit (an empty file, or only empty cells left alone): nothing was written.
    case nothingToSubmit(records: Int)
}

/// The job a submission created.
public struct SubmitReceipt: Sendable, Equatable {
    public var jobID: Int64
    public var jobKey: String
    public var source: String
    public var table: String
    /// Records read from the file.
    public var records: Int
    /// `Set` and `Link` items from the file.
    public var items: Int
    /// `Delete` items for records missing from a snapshot.
    public var deletes: Int
}

/// How far a submission has come, for a progress display.
public struct SubmitProgress: Sendable {
    /// What the submission is doing.
    public enum Phase: Sendable, Equatable {
        /// Reading the file and streaming its items to the server.
        case reading
        /// The whole file is read: the items are moving into the job (one
        /// statement; usually the longer part).
        case storing
    }

    public var phase: Phase
    public var records: Int
    public var items: Int
    public var bytesRead: Int64
    public var totalBytes: Int64?
    /// Seconds since reading started.
    public var elapsed: Double
}
