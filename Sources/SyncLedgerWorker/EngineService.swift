import Logging
import ServiceLifecycle
import Synchronization

/// One generation's ``WorkerEngine`` as a service of that generation's group
/// (see ``Worker``): the first generation prepares the worker (the newest
/// function this code calls, the leases a previous run left behind) and says
/// it is ready; every generation then runs the engine until it ends. How it
/// ended is kept in ``end`` for the worker's watchdog and exit.
final class EngineService: Service, Sendable {
    let engine: WorkerEngine
    let generation: Int
    let health: WorkerHealth
    let logger: Logger
    private let ending = Mutex<WorkerEngine.End?>(nil)

    init(engine: WorkerEngine, generation: Int, health: WorkerHealth, logger: Logger) {
        self.engine = engine
        self.generation = generation
        self.health = health
        self.logger = logger
    }

    /// How the engine ended; nil while it runs (or when it never ran).
    var end: WorkerEngine.End? { ending.withLock { $0 } }

    func run() async {
        let end = await runEngine()
        ending.withLock { $0 = end }
    }

    private func runEngine() async -> WorkerEngine.End {
        // Let the pool's run() start before the first lease (the pool warns
        // about a lease before run()).
        try? await Task.sleep(for: .milliseconds(10))
        if generation == 0 {
            if let end = await engine.prepare() { return end }
            SystemdNotifier.notify("READY=1\nSTATUS=processing jobs")
            logger.info("worker started")
        }
        health.started()
        let end = await engine.run()
        // A worker that stops for good leaves the registry of live workers
        // at once (a stalled generation stays in it: the next one goes on).
        if case .stopped = end, !Task.isCancelled { await engine.deregister() }
        return end
    }
}
