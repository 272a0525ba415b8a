import Logging
import PostgresNIO

/// What PostgreSQL said when it refused an item's row — a CHECK, a foreign
/// key, a unique index, a NOT NULL, or a target table's trigger (SPEC §2:
/// the item fails alone) — in two forms:
///
/// - ``upstreamMessage(field:)`` for the item's `process_message`,
///   which the upstream that sent it reads: only names — the trigger (or
///   function) or the constraint, the field and the SQLSTATE. Never the
///   server's text: a trigger's `RAISE` may interpolate any column of the
///   row (another system's data), a generated column or a constraint's
///   expression may quote one in a cast error, and a constraint's DETAIL
///   quotes the whole row.
/// - ``record`` for `integration.item_refusal`, which only stewards and
///   operators read: the message, DETAIL, HINT and CONTEXT as the server
///   sent them.
///
/// Which trigger raised it is read from the error's CONTEXT (the functions
/// it passed through, innermost first) and the catalogue (the triggers whose
/// function that is): ``resolve(table:on:logger:)``.
struct DatabaseRefusal: Sendable, Equatable {
    var sqlState: String
    var message: String
    var detail: String?
    var hint: String?
    var context: String?
    var constraint: String?
    var column: String?
    /// The trigger whose function raised it, as `name on schema.table`, once resolved.
    var trigger: String?
    /// The innermost function of the context that is not syncledger's, once resolved.
    var function: String?

    /// The refusal in `error`; nil when it is not a server error.
    init?(_ error: any Error) {
        guard let info = PostgresErrors.serverError(error)?.serverInfo, let state = info[.sqlState] else { return nil }
        sqlState = state
        message = info[.message] ?? "refused"
        detail = info[.detail]
        hint = info[.hint]
        context = info[.locationContext]
        constraint = info[.constraintName]
        column = info[.columnName]
    }

    init(sqlState: String, message: String, context: String? = nil, constraint: String? = nil, column: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.context = context
        self.constraint = constraint
        self.column = column
    }

    /// The functions the error passed through, innermost first, as the
    /// CONTEXT names them (`core.guard_salary`, or without a schema when it
    /// was on the search path): PL/pgSQL, SQL and other procedural languages.
    var functions: [String] {
        guard let context else { return [] }
        var names: [String] = []
        for line in context.split(separator: "\n") {
            var rest = Substring(line)
            if rest.hasPrefix("SQL function \"") {
                rest = rest.dropFirst("SQL function \"".count)
                names.append(String(rest.prefix { $0 != "\"" }))
            } else if rest.hasPrefix("PL/"), let range = rest.range(of: " function ") {
                rest = rest[range.upperBound...]
                if rest.hasPrefix("\"") {
                    names.append(String(rest.dropFirst().prefix { $0 != "\"" }))
                } else {
                    names.append(String(rest.prefix { $0 != "(" && $0 != " " }))
                }
            }
        }
        return names
    }

    /// The text for `process_message`: the trigger or constraint, `field`
    /// (nil: the item's record, e.g. a Delete) and the SQLSTATE, e.g.
    /// `check constraint person_salary_check refused field salary (SQLSTATE 23514)`.
    func upstreamMessage(field: String?) -> String {
        let what = field.map { "field \($0)" } ?? "the record"
        let named = constraint.map { " \($0)" } ?? ""
        let refuser: String
        if let trigger {
            refuser = "trigger \(trigger)"
        } else if let function {
            refuser = "function \(function)"
        } else {
            switch sqlState {
            case "23514": refuser = "check constraint\(named)"
            case "23505": refuser = "unique constraint\(named)"
            case "23503": refuser = "foreign key constraint\(named)"
            case "23P01": refuser = "exclusion constraint\(named)"
            case "23502": refuser = "not-null constraint on column \(column ?? field ?? "?")"
            default: refuser = constraint.map { "constraint \($0)" } ?? "the database"
            }
        }
        return "\(refuser) refused \(what) (SQLSTATE \(sqlState)); the full message is kept for stewards (integration.item_refusal)"
    }

    /// What `integration.item_refusal` keeps, as `apply_chunk` takes it.
    var record: Record {
        Record(sqlState: sqlState, message: message, detail: detail, hint: hint, context: context)
    }

    /// The columns of `integration.item_refusal` (JSON keys of the item's `refusal`).
    struct Record: Encodable, Sendable, Equatable {
        var sqlState: String
        var message: String
        var detail: String?
        var hint: String?
        var context: String?

        enum CodingKeys: String, CodingKey {
            case message, detail, hint, context
            case sqlState = "sql_state"
        }
    }

    /// Resolves who refused: the innermost function of the context that is
    /// not syncledger's (``function``), and the trigger whose function that is
    /// (``trigger``), preferring one on `table`. Two catalogue queries, only
    /// when the context names a function at all.
    mutating func resolve(table: String?, on conn: PostgresConnection, logger: Logger) async throws {
        let functions = self.functions
        guard !functions.isEmpty else { return }
        let bare = functions.map { String($0.split(separator: ".").last ?? Substring($0)) }
        let ownNames: [String] = try await conn.checkedRows(
            """
            SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = 'integration'::regnamespace AND p.proname = ANY (\(bare))
            """, logger: logger
        ).decoded(String.self)
        let own = Set<String>(ownNames)
        // A function is named with its schema when that was not on the search
        // path, which for syncledger's own functions is pinned to
        // pg_catalog, integration.
        let user = functions.filter { name in
            let parts = name.split(separator: ".", maxSplits: 1)
            return parts.count == 2 ? parts[0] != "integration" : !own.contains(name)
        }
        guard let innermost = user.first else { return }
        function = innermost
        let triggers = try await conn.checkedRows(
            """
            SELECT t.tgname::text, n.nspname::text || '.' || c.relname::text, pn.nspname::text, p.proname::text
              FROM pg_catalog.pg_trigger t
              JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
              JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
             WHERE NOT t.tgisinternal AND p.proname = ANY (\(bare)) AND pn.nspname <> 'integration'
             ORDER BY t.tgname
            """, logger: logger
        ).decoded((String, String, String, String).self)
        for name in user {
            let matching = triggers.filter { $0.3 == name || "\($0.2).\($0.3)" == name }
            if let found = matching.first(where: { $0.1 == table }) ?? matching.first {
                trigger = "\(found.0) on \(found.1)"
                return
            }
        }
    }
}
