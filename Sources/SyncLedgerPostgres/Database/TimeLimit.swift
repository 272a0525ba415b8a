/// `withTimeLimit` gave up waiting.
package struct TimeLimitExceeded: Error, CustomStringConvertible {
    package var description: String { "no answer within the time limit" }
}

/// `body`, or ``TimeLimitExceeded`` after `limit`; `onTimeout` runs first then,
/// to release whatever `body` waits for (e.g. close its connection).
///
/// `body` must honour cancellation (postgres-nio's pool lease and
/// `checkedQuery` do): the task group waits for it to end.
package func withTimeLimit<T: Sendable>(
    _ limit: Duration, onTimeout: @escaping @Sendable () async -> Void, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimeLimitExceeded() }
        if let value = first { return value }
        await onTimeout()
        throw TimeLimitExceeded()
    }
}
