import Foundation

/// A job of a claim.
public struct ClaimedJob: Sendable, Equatable {
    public var jobID: Int64
    public var source: String
    public var entityType: String?
    /// Including this claim.
    public var attempts: Int
    /// The job's place in submission order.
    public var submitSeq: Int64
    /// The lease owner it was rescued from after that lease expired, nil when
    /// it was Submitted.
    public var rescuedFrom: String?
    public var lastError: String?
}

/// Jobs claimed together under one fencing token.
public struct Claim: Sendable, Equatable {
    /// Unique to this claim: every statement about its jobs checks it.
    public var token: UUID
    /// In submission order.
    public var jobs: [ClaimedJob]

    public init(token: UUID, jobs: [ClaimedJob]) {
        self.token = token
        self.jobs = jobs
    }

    public var jobIDs: [Int64] { jobs.map(\.jobID) }
}
