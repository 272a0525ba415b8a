import SyncLedgerCore

/// The reading side of a submission (``FileSubmitter``): input → content key
/// → pipeline → COPY bytes, and the values to check (``ValueCheckBatch``),
/// the lines of records with a bad value, and the records a later one with
/// the same key supersedes.
struct IntakeReading {
    let input: IntakeInput
    var pipeline: IntakePipeline
    var key: SubmissionKey
    var chunk: [UInt8]
    /// COPY text not yet sent.
    var buffer: [UInt8] = []
    /// Whether items still go to the COPY: not once the file is known to be
    /// refused (a bad value with `--on-bad-rows refuse`, a repeated key);
    /// it is still read to the end, to find every bad value.
    var copying = true
    /// Values to check, not yet sent.
    var checks: ValueCheckBatch
    /// Lines of records with a bad value the pipeline found (the database's
    /// are added by the caller).
    var badLines: [Int] = []
    var supersessions: [Supersession] = []
    var finished = false
    /// The last read returned less than a chunk: the input had no more for now.
    var drained = false
    let started = ContinuousClock.now
    var lastReport = ContinuousClock.now
    let progressInterval: Duration
    let progress: (@Sendable (SubmitProgress) -> Void)?

    init(
        input: IntakeInput, pipeline: IntakePipeline, key: SubmissionKey, checks: ValueCheckBatch, chunkSize: Int, progressInterval: Duration,
        progress: (@Sendable (SubmitProgress) -> Void)?
    ) {
        self.input = input
        self.pipeline = pipeline
        self.key = key
        self.checks = checks
        self.chunk = [UInt8](repeating: 0, count: chunkSize)
        self.progressInterval = progressInterval
        self.progress = progress
        buffer.reserveCapacity(chunkSize * 2)
    }

    /// Reads, hashes and parses the next chunk (or finishes at the end).
    mutating func next() throws {
        let count = try input.read(into: &chunk)
        drained = count < chunk.count
        if count == 0 {
            // Bad values are thrown by the submitter, with the database's.
            try pipeline.finish(throwingProblems: false) { item in
                if copying { CopyText.append(item, to: &buffer) }
                checks.add(item)
            }
            collect()
            finished = true
            return
        }
        try chunk.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<count])
            key.update(bytes)
            // Stored properties other than the pipeline's: no overlapping access.
            try pipeline.feed(bytes) { item in
                if copying { CopyText.append(item, to: &buffer) }
                checks.add(item)
            }
        }
        collect()
        report(force: false)
    }

    private mutating func collect() {
        badLines += pipeline.takeBadLines()
        supersessions += pipeline.takeSupersessions()
    }

    /// The values to check so far; the next ones go to a new batch.
    mutating func takeChecks() -> ValueCheckBatch {
        defer { checks = ValueCheckBatch(plan: checks.plan) }
        return checks
    }

    mutating func report(force: Bool, phase: SubmitProgress.Phase = .reading) {
        guard let progress else { return }
        let now = ContinuousClock.now
        guard force || now - lastReport >= progressInterval else { return }
        lastReport = now
        let elapsed = now - started
        progress(
            SubmitProgress(
                phase: phase, records: pipeline.records, items: pipeline.items, bytesRead: input.bytesRead, totalBytes: input.totalBytes,
                elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
    }

    /// The job key: the request's, or the content key once the whole file is read.
    func jobKey(_ request: SubmitRequest) -> String? {
        request.jobKey ?? (finished ? key.jobKey : nil)
    }
}
