import Foundation
import Synchronization

/// What a running worker knows of its own health: when the database last
/// answered one of its slots, the state of its notification listener, and
/// its watchdog. Read by `/readyz` and by the watchdog.
public final class WorkerHealth: Sendable {
    /// The notification listener.
    public enum Listener: Sendable, Equatable {
        /// Not started, or (re)connecting.
        case connecting
        /// Connected, and its own probe notifications arrive.
        case listening
        /// Off by configuration (`--no-listen`, a transaction pooler).
        case off
        /// Notifications sent never arrived (a transaction pooler): polling alone.
        case pollingAlone
    }

    private struct State {
        var lastAnswer: ContinuousClock.Instant = .now
        var answeredSinceReconnect = false
        var listener: Listener = .connecting
        var started = false
        var stalled: String?
        /// Why the database cannot be used, as a new connection found it
        /// while the worker heard nothing (the watchdog's probe).
        var databaseCause: String?
    }

    private let state = Mutex(State())

    public init() {}

    /// The database answered a slot (a claim, a chunk).
    func answered(at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.lastAnswer = now
            $0.answeredSinceReconnect = true
        }
    }

    /// The worker connected and saw its schema (or reconnected after a stall).
    func started(at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.started = true
            $0.lastAnswer = now
            $0.answeredSinceReconnect = false
            $0.stalled = nil
        }
    }

    func stalled(_ reason: String) { state.withLock { $0.stalled = reason } }

    /// The cause of an outage as a new connection found it; nil once the
    /// database answers again.
    func databaseCause(_ cause: String?) { state.withLock { $0.databaseCause = cause } }

    /// The cause of the current outage, if one was found.
    public var currentDatabaseCause: String? { state.withLock { $0.databaseCause } }

    func listener(_ listener: Listener) { state.withLock { $0.listener = listener } }

    public var listenerState: Listener { state.withLock { $0.listener } }

    /// Time since the database last answered a slot.
    func silence(now: ContinuousClock.Instant = .now) -> Duration { now - state.withLock { $0.lastAnswer } }

    var answeredSinceReconnect: Bool { state.withLock { $0.answeredSinceReconnect } }

    /// Why the worker is not ready, or nothing when it is: it has started,
    /// the database answered it lately, its listener is connected (unless
    /// off or polling alone), and its watchdog has not given up.
    public func unreadyReasons(answerWithin limit: Duration, now: ContinuousClock.Instant = .now) -> [String] {
        state.withLock { state in
            var reasons: [String] = []
            if !state.started { reasons.append("not started: connecting to the database and checking its schema") }
            if let stalled = state.stalled { reasons.append(stalled) }
            let silence = now - state.lastAnswer
            if state.started && silence > limit {
                reasons.append("the database has not answered this worker for \(silence.components.seconds) s")
            }
            if state.started && state.listener == .connecting { reasons.append("the notification listener is not connected") }
            return reasons
        }
    }
}
