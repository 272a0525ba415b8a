import Foundation

/// A job of a claim.
package struct ClaimedJob: Sendable, Equatable {
    package var jobID: Int64
    package var source: String
    package var entityType: String?
    /// Including this claim.
    package var attempts: Int
    /// The job's place in submission order.
    package var submitSeq: Int64
    /// The lease owner it was rescued from after that lease expired, nil when
    /// it was Submitted.
    package var rescuedFrom: String?
    package var lastError: String?
}

/// Jobs claimed together under one fencing token.
package struct Claim: Sendable, Equatable {
    /// Unique to this claim: every statement about its jobs checks it.
    package var token: UUID
    /// In submission order.
    package var jobs: [ClaimedJob]

    package init(token: UUID, jobs: [ClaimedJob]) {
        self.token = token
        self.jobs = jobs
    }

    package var jobIDs: [Int64] { jobs.map(\.jobID) }
}
