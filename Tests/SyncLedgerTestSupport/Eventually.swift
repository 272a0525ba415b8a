/// Waits (at most `bound`, checking every `interval`) until `condition`
/// holds; false if it never did. For what another session or process does
/// in its own time: a lock it waits for, a job it finishes.
package func eventually(
    within bound: Duration, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + bound
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
