import PostgresNIO

/// Why a steward or connector action did not happen, in words for the person
/// at the terminal: the server's own message for refusals raised by the
/// `integration` functions (SQLSTATEs `SL0xx`, see `sql/code/70_stewardship.sql`),
/// or a message of ours for what the library checks itself.
public struct StewardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The SQLSTATE, e.g. `SL030`; nil for errors found before reaching SQL.
    public var sqlState: SQLState?
    /// The message, e.g. `ledger entry 42 is Rejected; only Pending entries can be certified`.
    public var message: String
    /// The server's DETAIL, if any.
    public var detail: String?
    /// What to do about it, if anything is known.
    public var hint: String?

    public init(sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// The message, then the detail and hint on lines of their own.
    public var description: String {
        var lines = [message]
        if let detail { lines.append("detail: \(detail)") }
        if let hint { lines.append("hint: \(hint)") }
        return lines.joined(separator: "\n")
    }

    /// `error` itself, or the error of a server refusal, or nil when `error`
    /// is neither.
    public static func server(_ error: any Error) -> StewardError? {
        if let known = error as? StewardError { return known }
        guard let server = PostgresErrors.serverError(error), let info = server.serverInfo else { return nil }
        let state = PostgresErrors.sqlState(server)
        return StewardError(
            sqlState: state, message: info[.message] ?? PostgresErrors.message(error), detail: info[.detail],
            hint: cliHint(sqlState: state) ?? info[.hint])
    }

    /// `error` as a ``StewardError``: server refusals with their message, and
    /// anything else (connection failures, ...) described as well as we can.
    public static func describing(_ error: any Error) -> StewardError {
        server(error) ?? StewardError(message: PostgresErrors.message(error))
    }

    /// Hints phrased for the command line instead of the SQL ones (which name
    /// SQL arguments such as `force => true`).
    static func cliHint(sqlState: SQLState?) -> String? {
        switch sqlState {
        case .targetChanged?:
            return "look at the entry with `syncledger steward history`, then certify with --force to apply it anyway, or reject it"
        case .unknownUser?, .inactiveUser?, .notASteward?:
            return "act as an active steward with --as NAME (a user_name of integration.app_user with is_steward)"
        default:
            return nil
        }
    }
}
