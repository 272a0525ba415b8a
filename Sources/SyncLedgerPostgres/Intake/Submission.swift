import SyncLedgerCore

/// What `syncledger submit` is asked to do with a file.
public struct SubmitRequest: Sendable {
    public var mapping: IntakeMapping
    /// How the file is written and what bad values and repeated keys do.
    public var options: IntakeOptions
    /// The file's format (``IntakeOptions/format``).
    public var format: IntakeFormat {
        get { options.format }
        set { options.format = newValue }
    }
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

    public init(mapping: IntakeMapping, options: IntakeOptions) {
        self.mapping = mapping
        self.options = options
    }

    /// A request for `format`, the other options at their defaults.
    public init(mapping: IntakeMapping, format: IntakeFormat) {
        self.init(mapping: mapping, options: IntakeOptions(format: format))
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
    /// The records left out for a bad value (`--on-bad-rows skip`), if any.
    public var skipped: SkippedRecords?
}

/// The records of a file left out because they had a bad value
/// (``BadRows/skip``).
public struct SkippedRecords: Sendable, Equatable {
    /// The lines they start on, in file order.
    public var lines: [Int]
    /// Their bad values (the first ones, and the count).
    public var badValues: BadValueReport
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
