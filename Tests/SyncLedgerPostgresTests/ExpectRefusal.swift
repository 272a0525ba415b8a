import SyncLedgerPostgres
import Testing

/// Expects `body` to fail with SQLSTATE `state` and a message containing `fragment`.
func expectRefusal(
    _ state: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected a refusal with \(state) (\(fragment)), but it succeeded", sourceLocation: sourceLocation)
    } catch {
        #expect(PostgresErrors.sqlState(error)?.code == state, "\(StewardError.describing(error))", sourceLocation: sourceLocation)
        let message = StewardError.describing(error).message
        #expect(message.contains(fragment), "message: \(message)", sourceLocation: sourceLocation)
    }
}
