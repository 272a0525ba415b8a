import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Starts child processes from one thread that lives as long as the test
/// process. `setpriv --pdeathsig KILL` (which makes a worker die with the
/// tests) signals the child when the *thread* that started it ends, not the
/// process: a child started from a pool thread that the system later retires
/// was killed mid-test, silently. Every long-lived child (worker processes,
/// PgBouncer) is started here.
package enum SpawnThread {
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [() -> Void] = []
    }

    private static let queue: Queue = {
        let queue = Queue()
        let thread = Thread {
            while true {
                queue.condition.lock()
                while queue.jobs.isEmpty { queue.condition.wait() }
                let job = queue.jobs.removeFirst()
                queue.condition.unlock()
                job()
            }
        }
        thread.name = "syncledger-test-spawner"
        thread.start()
        return queue
    }()

    /// Runs `body` (e.g. `process.run()`) on the spawning thread and waits for it.
    package static func run(_ body: @escaping () throws -> Void) throws {
        let done = NSCondition()
        var finished = false
        var failure: (any Error)?
        let queue = Self.queue
        queue.condition.lock()
        queue.jobs.append {
            do { try body() } catch { failure = error }
            done.lock()
            finished = true
            done.signal()
            done.unlock()
        }
        queue.condition.signal()
        queue.condition.unlock()
        done.lock()
        while !finished { done.wait() }
        done.unlock()
        if let failure { throw failure }
    }
}
