/// A SQLSTATE: the five-character code PostgreSQL sends with every error,
/// PostgreSQL's own (`40P01`, `23505`, ...) or syncledger's (`SL001` …
/// `SL096`, raised by the functions of `sql/code/`, whose headers list them).
///
/// A code the server sends is kept whatever it is; the named members are the
/// codes syncledger tells apart. Compare with them, or with a ``Class``:
///
/// ```swift
/// if PostgresErrors.sqlState(error) == .leaseLost { ... }
/// if PostgresErrors.sqlState(error)?.errorClass == .transactionRollback { ... }
/// ```
public struct SQLState: Sendable, Hashable, CustomStringConvertible {
    /// The five characters, e.g. `SL030` or `40P01`.
    public let code: String

    /// The SQLSTATE `code` (five characters, as the server sends it).
    public init(_ code: String) {
        self.code = code
    }

    public var description: String { code }

    /// Its class: the first two characters.
    public var errorClass: Class { Class(String(code.prefix(2))) }

    /// A SQLSTATE class: the first two characters of a code.
    public struct Class: Sendable, Hashable, CustomStringConvertible {
        /// The two characters, e.g. `40`.
        public let code: String

        public init(_ code: String) {
            self.code = code
        }

        public var description: String { code }

        /// `08`: the connection failed.
        public static let connectionException = Class("08")
        /// `25`: a statement not allowed in the transaction's state.
        public static let invalidTransactionState = Class("25")
        /// `26`: an unknown prepared statement.
        public static let invalidSQLStatementName = Class("26")
        /// `28`: authentication or authorisation failed.
        public static let invalidAuthorizationSpecification = Class("28")
        /// `2D`: a transaction ended where it may not.
        public static let invalidTransactionTermination = Class("2D")
        /// `3B`: a savepoint error.
        public static let savepointException = Class("3B")
        /// `3D`: an unknown database.
        public static let invalidCatalogName = Class("3D")
        /// `3F`: an unknown schema.
        public static let invalidSchemaName = Class("3F")
        /// `40`: the transaction was rolled back (deadlock, serialization failure).
        public static let transactionRollback = Class("40")
        /// `42`: a syntax error or a missing privilege, function or object.
        public static let syntaxErrorOrAccessRuleViolation = Class("42")
        /// `53`: the server ran out of something (connections, disk, memory).
        public static let insufficientResources = Class("53")
        /// `55`: an object not in the state the statement needs (a lock not available).
        public static let objectNotInPrerequisiteState = Class("55")
        /// `57`: an operator intervened (shutdown, cancel, start-up).
        public static let operatorIntervention = Class("57")
        /// `58`: an error outside PostgreSQL (I/O).
        public static let systemError = Class("58")
        /// `F0`: a configuration file error.
        public static let configurationFileError = Class("F0")
        /// `XX`: an internal error.
        public static let internalError = Class("XX")
        /// `SL`: syncledger's own refusals.
        public static let syncledger = Class("SL")
    }

    // MARK: syncledger's (sql/code/*.sql)

    /// `SL001` (ledger_guard.sql): the ledger is append-only (a DELETE, a
    /// TRUNCATE, an UPDATE by anyone but the functions' owner).
    public static let ledgerAppendOnly = SQLState("SL001")
    /// `SL002` (ledger_guard.sql): an UPDATE of the ledger changes a column that is history.
    public static let ledgerHistoryChanged = SQLState("SL002")
    /// `SL003` (ledger_guard.sql): an UPDATE of the ledger makes a status
    /// transition that is not allowed.
    public static let ledgerTransitionRefused = SQLState("SL003")
    /// `SL010` (stewardship.sql): ledger entry not found.
    public static let ledgerEntryNotFound = SQLState("SL010")
    /// `SL011` (stewardship.sql): ledger entry in the wrong status for the action.
    public static let ledgerEntryWrongStatus = SQLState("SL011")
    /// `SL020` (stewardship.sql): unknown user.
    public static let unknownUser = SQLState("SL020")
    /// `SL021` (stewardship.sql): inactive user.
    public static let inactiveUser = SQLState("SL021")
    /// `SL022` (stewardship.sql): the user is not a steward.
    public static let notASteward = SQLState("SL022")
    /// `SL023` (stewardship.sql): acting in another user's name.
    public static let actingForAnotherUser = SQLState("SL023")
    /// `SL030` (stewardship.sql): the target changed since the entry was recorded.
    public static let targetChanged = SQLState("SL030")
    /// `SL040` (jobs.sql): sync job not found.
    public static let jobNotFound = SQLState("SL040")
    /// `SL041` (jobs.sql): sync job in the wrong direction or status for the action.
    public static let jobWrongState = SQLState("SL041")
    /// `SL050` (targets.sql): target table not registered, missing or
    /// inactive, or the column not writable.
    public static let targetNotWritable = SQLState("SL050")
    /// `SL051` (targets.sql): target record not found.
    public static let targetRecordNotFound = SQLState("SL051")
    /// `SL060` (jobs.sql, aspects.sql): the claim no longer holds a job of the
    /// chunk (its lease was lost).
    public static let leaseLost = SQLState("SL060")
    /// `SL061` (aspects.sql): the configuration changed since the worker loaded it.
    public static let configurationChanged = SQLState("SL061")
    /// `SL062` (aspects.sql, listed in its header): a worker decision the
    /// policies do not allow (e.g. Certified without auto_certify).
    public static let decisionNotAllowed = SQLState("SL062")
    /// `SL070` (retention.sql): an invalid argument to `prune_jobs` or `prune_preview`.
    public static let invalidPruneArgument = SQLState("SL070")
    /// `SL071` (intake.sql): the role may not read that source's crosswalk
    /// (`snapshot_keys`) or check values for it (`check_values`): it is not
    /// the source's login role.
    public static let crosswalkNotReadable = SQLState("SL071")
    /// `SL090` (identity.sql): a match rule that cannot be (unknown field, the
    /// id or active column, a generated or relationship column, a field twice).
    public static let invalidMatchRule = SQLState("SL090")
    /// `SL091` (identity.sql): `merge` of records that are not two different
    /// records of one registered target table.
    public static let mergeNotTwoRecords = SQLState("SL091")
    /// `SL092` (identity.sql): `merge` in a table without an active column.
    public static let mergeNeedsActiveColumn = SQLState("SL092")
    /// `SL093` (identity.sql): `merge` of a record that is inactive, already
    /// merged, or has absorbed others.
    public static let mergeRecordNotMergeable = SQLState("SL093")
    /// `SL094` (identity.sql): `merge` of two records that carry identifiers of
    /// one source (that source's own duplicate).
    public static let mergeSameSource = SQLState("SL094")
    /// `SL095` (identity.sql): `unmerge` of a merge not found or already undone.
    public static let mergeNotFound = SQLState("SL095")
    /// `SL096` (identity.sql): `dismiss_suspect` of a pair not found or not open.
    public static let suspectNotOpen = SQLState("SL096")

    // MARK: PostgreSQL's

    /// `23505`: a unique index refused a duplicate.
    public static let uniqueViolation = SQLState("23505")
    /// `28000`: the server refused the login (pg_hba.conf).
    public static let invalidAuthorizationSpecification = SQLState("28000")
    /// `28P01`: wrong password.
    public static let invalidPassword = SQLState("28P01")
    /// `3D000`: the database does not exist.
    public static let invalidCatalogName = SQLState("3D000")
    /// `3F000`: the schema does not exist.
    public static let invalidSchemaName = SQLState("3F000")
    /// `40001`: serialization failure.
    public static let serializationFailure = SQLState("40001")
    /// `40P01`: deadlock detected.
    public static let deadlockDetected = SQLState("40P01")
    /// `42501`: a missing privilege (also: row-level security refused the row).
    public static let insufficientPrivilege = SQLState("42501")
    /// `42P01`: the table or view does not exist.
    public static let undefinedTable = SQLState("42P01")
    /// `undefined_object`: e.g. an unknown configuration parameter.
    public static let undefinedObject = SQLState("42704")
    /// `undefined_function`.
    public static let undefinedFunction = SQLState("42883")
    /// `undefined_column`.
    public static let undefinedColumn = SQLState("42703")
    /// `53100`: the server's disk is full.
    public static let diskFull = SQLState("53100")
    /// `53200`: the server is out of memory.
    public static let outOfMemory = SQLState("53200")
    /// `53300`: too many connections.
    public static let tooManyConnections = SQLState("53300")
    /// `55P03`: a lock was not available in time (`lock_timeout`).
    public static let lockNotAvailable = SQLState("55P03")
    /// `57P01`: the server is shutting down (administrator command).
    public static let adminShutdown = SQLState("57P01")
    /// `57P03`: the server cannot accept connections now (starting up).
    public static let cannotConnectNow = SQLState("57P03")
}
