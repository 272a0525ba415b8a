import Foundation
import SyncLedgerCore
import SyncLedgerPostgres
import Synchronization

/// The progress line on a terminal's standard error, redrawn in place:
/// reading, then storing, then the totals (which stay on screen).
final class ProgressDisplay: Sendable {
    private let started = ContinuousClock.now
    /// The last report, and when storing began.
    private let last = Mutex<(SubmitProgress, ContinuousClock.Instant)?>(nil)

    @Sendable func show(_ progress: SubmitProgress) {
        let storingSince = last.withLock { state in
            let since = state.flatMap { $0.0.phase == .storing ? $0.1 : nil } ?? ContinuousClock.now
            state = (progress, since)
            return since
        }
        draw(progress, storingSince: storingSince)
    }

    /// Redraws the storing line with the time it has taken so far (once a
    /// second, while the server inserts the items).
    func tick() {
        guard let (progress, since) = last.withLock({ $0 }), progress.phase == .storing else { return }
        draw(progress, storingSince: since)
    }

    private func draw(_ progress: SubmitProgress, storingSince: ContinuousClock.Instant) {
        let line: String
        switch progress.phase {
        case .reading:
            line = IntakeProgress.line(
                records: progress.records, items: progress.items, bytesRead: progress.bytesRead, totalBytes: progress.totalBytes,
                elapsed: progress.elapsed)
        case .storing:
            let waited = (ContinuousClock.now - storingSince).components.seconds
            line = IntakeProgress.storing(records: progress.records, items: progress.items) + (waited > 0 ? " \(waited) s" : "")
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    /// Replaces the line with the totals, and moves to the next.
    func finish() {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let line = last.withLock { $0 }.map { IntakeProgress.done(records: $0.0.records, items: $0.0.items, elapsed: seconds) } ?? ""
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\n".utf8))
    }

    /// Removes the line (before an error message).
    func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
