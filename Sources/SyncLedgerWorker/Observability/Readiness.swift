import Logging
import PostgresNIO
import SyncLedgerPostgres

/// What `/readyz` answers: ready, or not ready with the reasons.
///
/// `/healthz` only says the process is alive (restart it if it does not
/// answer); `/readyz` says whether it can do its work now (the database
/// answers, the schema matches, ...), for load balancers and dashboards.
public struct Readiness: Sendable, Equatable {
    public var ready: Bool
    /// Why not ready; empty when ready.
    public var reasons: [String]

    public init(ready: Bool, reasons: [String] = []) {
        self.ready = ready
        self.reasons = reasons
    }

    public static let ready = Readiness(ready: true)

    public static func unready(_ reasons: String...) -> Readiness { Readiness(ready: false, reasons: reasons) }

    /// A readiness check; it must return promptly (bound its own waits) and
    /// honour cancellation.
    public typealias Provider = @Sendable () async -> Readiness

    /// Ready when every one is ready; the reasons of all that are not.
    public static func combine(_ results: [Readiness]) -> Readiness {
        Readiness(ready: results.allSatisfy(\.ready), reasons: results.flatMap(\.reasons))
    }

    /// A provider that runs `providers` concurrently and combines their answers.
    public static func combine(_ providers: [Provider]) -> Provider {
        {
            await withTaskGroup(of: (Int, Readiness).self) { group in
                for (index, provider) in providers.enumerated() {
                    group.addTask { (index, await provider()) }
                }
                var results: [(Int, Readiness)] = []
                for await result in group { results.append(result) }
                return combine(results.sorted { $0.0 < $1.0 }.map(\.1))
            }
        }
    }

    /// The database part: a query through `client` answers, and (with
    /// `migrator`) the schema holds every migration of this binary
    /// (`integration.schema_migration`; a newer schema is fine), all within
    /// `timeout` (under a second by default, so that a probe's own timeout
    /// never comes first).
    ///
    /// When the pool does not answer within half of it (its connections are
    /// gone and new ones fail: the pool waits and retries, and would name no
    /// cause), one new connection to `url` (``ConnectionCheck``) names the
    /// cause in the time left: refused, unreachable, authentication, TLS,
    /// schema, or no answer.
    public static func database(
        client: PostgresClient, url: DatabaseURL? = nil, migrator: Migrator? = nil, timeout: Duration = .milliseconds(900),
        logger: Logger
    ) -> Provider {
        {
            let start = ContinuousClock.now
            let poolLimit = url == nil ? timeout : timeout / 2
            let failure: String
            do {
                let recorded = try await withTimeLimit(poolLimit, onTimeout: {}) { () -> [String: String]? in
                    do {
                        let rows = try await QueryDeadline.$limit.withValue(poolLimit) {
                            try await client.collect(
                                "SELECT version, checksum FROM integration.schema_migration", as: (String, String).self, logger: logger)
                        }
                        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
                    } catch where [.undefinedTable, .invalidSchemaName].contains(PostgresErrors.sqlState(error)) {
                        return [:]  // no schema_migration: never migrated
                    } catch where PostgresErrors.sqlState(error) == .insufficientPrivilege {
                        return nil  // this role may not read it: not compared
                    }
                }
                guard let recorded else { return .ready }
                if recorded.isEmpty { return .unready("the database has no syncledger schema: run `syncledger migrate`") }
                if let migrator {
                    let comparison = migrator.compare(recorded: recorded)
                    let missing = (comparison.isLegacyRelease ? [Migrator.baseline] : []) + comparison.missingVersions
                    if !missing.isEmpty {
                        return .unready(
                            "the schema lacks \(missing.count) migration(s) of this binary (\(missing.joined(separator: ", "))): run `syncledger migrate`")
                    }
                }
                return .ready
            } catch is TimeLimitExceeded {
                failure = "the database did not answer within \(timeout)"
            } catch let timedOut as QueryTimedOut {
                failure = "the database did not answer within \(timedOut.limit)"
            } catch {
                if PostgresErrors.serverError(error) != nil {
                    return .unready("the database cannot be queried: \(PostgresErrors.message(error))")
                }
                failure = "the database cannot be queried: \(PostgresErrors.message(error))"
            }
            guard let url else { return .unready(failure) }
            let left = timeout - (ContinuousClock.now - start)
            guard left > .milliseconds(50) else { return .unready(failure) }
            do {
                _ = try await withTimeLimit(left, onTimeout: {}) {
                    try await ConnectionCheck.run(
                        url: url, requireSchema: migrator != nil, migrator: migrator, connectTimeout: left - .milliseconds(20),
                        logger: logger)
                }
                return .unready("\(failure), though a new connection was accepted: the worker's connections are busy or broken")
            } catch let cause as ConnectionCheck.Failure {
                return .unready(cause.message)
            } catch {
                return .unready(failure)
            }
        }
    }
}
