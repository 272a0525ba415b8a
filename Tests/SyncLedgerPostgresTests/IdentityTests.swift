import Foundation
import PostgresNIO
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres

/// SPEC §8, identity resolution: match rules find the existing record of a
/// new key (link, or a suspect pair for a steward), racing workers never make
/// two records of one person where a link rule applies, and a merge is undone
/// exactly by unmerge.
@Suite("Identity resolution: match rules, suspects, merge and unmerge")
struct IdentityTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["SYNCLEDGER_STRESS_ROUNDS"] ?? "") ?? 2 }

    /// The standard scenario with birth dates applied at ingest (the match
    /// rules compare them), and no subscriptions (no outbound noise).
    static let setup = Scenario.standard + """
        UPDATE integration.commit_policy SET commit_mode = 'OnIngest', auto_certify = true WHERE field_name = 'birth_date';
        """

    /// The README's example rules (the SQL block that starts with `-- heading`).
    static func readmeRules(_ heading: String) throws -> String {
        if let block = try ReadmeSQL.block(startingWith: heading) { return block }
        Issue.record("README.md has no ```sql block starting with -- \(heading)")
        return ""
    }

    // MARK: - Matching

    @Test func aLinkRuleLinksANewKeyToTheOneRecordItFindsAndItsRecordEntryNamesTheRule() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            try await db.submit(items: [
                .set("E1", "given_name", "Amélie"), .set("E1", "family_name", "Dupont"), .set("E1", "birth_date", "1980-05-03"),
            ])
            try await db.runWorker()
            // CRM: the same person under its own key, in other case and without accents.
            let job = try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "AMELIE"), .set("C1", "family_name", "dupont"), .set("C1", "birth_date", "1980-05-03"),
            ])
            try await db.runWorker()
            #expect(try await db.job(job).status == "Completed")
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
            #expect(try await db.recordID("C1", source: "crm") == (try await db.recordID("E1")))
            let entry = try await db.rows(
                """
                SELECT l.value, l.previous_value, l.match_rule, l.match_score::text, l.ledger_status FROM integration.ledger l
                 WHERE l.source_system_key = 'crm' AND l.ledger_aspect = 'Record'
                """)
            #expect(entry == [["created", "created", "same_name_and_birth_date", "1.0000", "Certified"]])
            // hr outranks crm for names: crm's spellings wait, the record keeps hr's.
            #expect(try await db.person("E1", "given_name") == "Amélie")
            #expect(try await db.int("SELECT count(*) FROM integration.match_suspect") == 0)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    @Test func severalCandidatesAreNeverLinkedButBecomeSuspectPairs() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            // Two hr records with the same name and birth date (hr's own duplicate).
            try await db.submit(items: ["E1", "E2"].flatMap { key -> [TestDatabase.Item] in
                [.set(key, "given_name", "Jean"), .set(key, "family_name", "Martin"), .set(key, "birth_date", "1970-01-01")]
            })
            try await db.runWorker()
            try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "Jean"), .set("C1", "family_name", "Martin"), .set("C1", "birth_date", "1970-01-01"),
            ])
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM core.person") == 3)
            let crm = try await db.recordID("C1", source: "crm")
            let pairs = try await db.rows(
                """
                SELECT s.candidate_id::text, s.rule_name, s.score::text, s.status, s.source_system_key FROM integration.match_suspect s
                 WHERE s.target_id = \(crm) ORDER BY 1
                """)
            let e1 = try await db.recordID("E1"), e2 = try await db.recordID("E2")
            #expect(pairs.map { $0[0] } == [e1, e2].map { $0.uuidString.lowercased() }.sorted())
            #expect(pairs.allSatisfy { $0[1] == "same_name_and_birth_date" && $0[2] == "1.0000" && $0[3] == "open" && $0[4] == "crm" })
            #expect(try await db.int("SELECT count(*) FROM integration.ledger WHERE match_rule IS NOT NULL") == 0)
        }
    }

    @Test func aSuspectRuleCreatesTheRecordAndRecordsThePairWhichAStewardDismisses() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            try await db.submit(items: [
                .set("E1", "given_name", "Marie Claire"), .set("E1", "family_name", "Dupont"), .set("E1", "birth_date", "1980-05-03"),
            ])
            try await db.runWorker()
            // A missing middle name: similar, not equal.
            try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "Marie"), .set("C1", "family_name", "Dupont"), .set("C1", "birth_date", "1980-05-03"),
            ])
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM core.person") == 2)
            let queue = try await db.rows(
                "SELECT suspect_id::text, target_keys, candidate_keys, rule_name, target_values FROM integration.suspect_queue WHERE status = 'open'")
            try #require(queue.count == 1)
            #expect(queue[0][1] == "crm:C1" && queue[0][2] == "hr:E1" && queue[0][3] == "like_name_and_birth_date")
            #expect(queue[0][4] == "given_name: Marie · family_name: Dupont · birth_date: 1980-05-03")
            let score = Double(try await db.text("SELECT score::text FROM integration.match_suspect") ?? "") ?? 0
            #expect(score >= 0.6 && score < 1)

            let suspect = Int64(queue[0][0]!)!
            let dismissed = try await IdentityQueries(client: db.client, logger: db.logger).dismiss(suspect, notes: "namesakes", as: "alice")
            #expect(dismissed.value("status") == "dismissed" && dismissed.value("decided_by") == "alice")
            await #expect(throws: (any Error).self) {
                _ = try await IdentityQueries(client: db.client, logger: db.logger).dismiss(suspect, as: "alice")
            }
            #expect(try await db.sqlState("SELECT integration.dismiss_suspect(\(suspect), NULL, 'alice')") == "SL096")
            // Not a steward: refused like every steward action.
            #expect(try await db.sqlState("SELECT integration.dismiss_suspect(\(suspect), NULL, 'carol')") == "SL022")
        }
    }

    @Test func newRecordsOfOneChunkThatShareABlockBecomeASuspectPairScoredOnTheWholeKey() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            // One job, one chunk, three new people: the first two agree on
            // family name and birth date (a block of the similar rule) and
            // differ by a middle name; the third shares a block with neither.
            try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "Marie Claire"), .set("C1", "family_name", "Dupont"), .set("C1", "birth_date", "1980-05-03"),
                .set("C2", "given_name", "Marie"), .set("C2", "family_name", "Dupont"), .set("C2", "birth_date", "1980-05-03"),
                .set("C3", "given_name", "Marius"), .set("C3", "family_name", "Durand"), .set("C3", "birth_date", "1981-06-04"),
            ])
            // One chunk transaction at a time: the three records in one call.
            try await db.runWorker { $0.parallelChunks = 1 }
            #expect(try await db.int("SELECT count(*) FROM core.person") == 3)
            let pairs = try await db.rows(
                """
                SELECT least(s.target_id, s.candidate_id)::text, greatest(s.target_id, s.candidate_id)::text, s.rule_name, s.score::text
                  FROM integration.match_suspect s
                """)
            let c1 = try await db.recordID("C1", source: "crm"), c2 = try await db.recordID("C2", source: "crm")
            let ids = [c1, c2].map { $0.uuidString.lowercased() }.sorted()
            try #require(pairs.count == 1)
            #expect(Array(pairs[0][0...1]) == ids.map { Optional($0) })
            #expect(pairs[0][2] == "like_name_and_birth_date")
            let score = Double(pairs[0][3] ?? "") ?? 0
            #expect(score >= 0.6 && score < 1)
        }
    }

    @Test func knownKeysAreNeverMatchedAgain() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup)
            // No rule yet: crm's key gets its own record.
            try await db.submit(items: [
                .set("E1", "given_name", "Jean"), .set("E1", "family_name", "Martin"), .set("E1", "birth_date", "1970-01-01"),
            ])
            try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "Jean"), .set("C1", "family_name", "Martin"), .set("C1", "birth_date", "1970-01-01"),
            ])
            try await db.runWorker()
            try await db.exec(try Self.readmeRules("People"))
            // Rules on: the known key stays on its record; a new key links.
            try await db.submit(source: "crm", items: [.set("C1", "email", "jean@example.org")])
            try await db.submit(source: "payroll", items: [
                .set("P1", "given_name", "Jean"), .set("P1", "family_name", "Martin"), .set("P1", "birth_date", "1970-01-01"),
            ])
            try await db.runWorker()
            #expect(try await db.recordID("C1", source: "crm") != (try await db.recordID("E1")))
            // Two records with this key already: payroll's key gets a record of
            // its own and is a suspect of both, not a link.
            #expect(try await db.int("SELECT count(*) FROM core.person") == 3)
            #expect(try await db.int("SELECT count(*) FROM integration.match_suspect WHERE source_system_key = 'payroll'") == 2)
        }
    }

    @Test func theKeysFollowTheRecordsValuesAndRulesAreCheckedWhenDefined() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup)
            try await db.submit(items: [
                .set("E1", "given_name", "Zoé"), .set("E1", "family_name", "Martin-Lévy"), .set("E1", "birth_date", "1990-12-31"),
            ])
            try await db.runWorker()
            // A rule defined on existing records gets their keys at once.
            try await db.exec(try Self.readmeRules("People"))
            let keys = try await db.rows(
                "SELECT r.rule_name, k.normalised_key FROM integration.match_key k JOIN integration.match_rule r USING (rule_id) ORDER BY 1, k.part")
            #expect(
                keys == [
                    ["like_name_and_birth_date", "zoe martin levy 1990 12 31"], ["like_name_and_birth_date", "1:martin levy|1990 12 31"],
                    ["like_name_and_birth_date", "2:zoe|1990 12 31"], ["like_name_and_birth_date", "3:zoe|martin levy"],
                    ["same_name_and_birth_date", "zoe|martin levy|1990 12 31"],
                ])
            // A change of value moves the key; a deleted record has none.
            try await db.submit(items: [.set("E1", "family_name", "Martin")])
            try await db.runWorker()
            #expect(try await db.text("SELECT normalised_key FROM integration.match_key k JOIN integration.match_rule r USING (rule_id) WHERE r.rule_name = 'same_name_and_birth_date'") == "zoe|martin|1990 12 31")
            try await db.submit(items: [.delete("E1")])
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM integration.match_key") == 0)
            // Rules that cannot be.
            for fields in ["{id}", "{is_active}", "{full_name}", "{employer_id}", "{emial}", "{email,email}"] {
                let state = try await db.sqlState(
                    PostgresQuery(unsafeSQL: "INSERT INTO integration.match_rule (target_table, rule_name, fields) VALUES ('core.person', 'r', '\(fields)')"))
                #expect(state == "SL090", "fields \(fields)")
            }
            #expect(try await db.sqlState("INSERT INTO integration.match_rule (target_table, rule_name, fields, method) VALUES ('core.person', 'r', '{email}', 'similar')") == "23514")
        }
    }

    // MARK: - Precision and recall on a seeded set

    /// A few thousand people in hr; crm sends a known part of them under its
    /// own keys with the differences real systems have, and new people, some
    /// of them near-namesakes. With the README's rules: no false link, and
    /// at least 95 % of crm's duplicates linked or suspected.
    @Test(.timeLimit(.minutes(20)))
    func seededDuplicatesAreLinkedOrSuspectedAndNeverWronglyLinked() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            var generator = SeededPeople(seed: 20)
            let people = generator.population(3000)
            try await db.submitMany(source: "hr", prefix: "hr", people.enumerated().map { ("E\($0.offset + 1)", $0.element) })
            try await db.runWorker { $0.chunkSize = 500 }

            let sample = generator.crm(of: people, duplicates: 1500, newcomers: 500)
            try await db.submitMany(source: "crm", prefix: "crm", sample.map { ($0.key, $0.person) })
            try await db.runWorker { $0.chunkSize = 500 }
            #expect(try await db.int("SELECT count(*) FROM integration.sync_item i JOIN integration.sync_job j USING (job_id) WHERE j.direction = 'Inbound' AND i.item_status IN ('Pending', 'Failed')") == 0)

            let outcome = try await db.rows(
                """
                SELECT t.key, (c.target_id = h.target_id)::text AS right_link,
                       EXISTS (SELECT FROM integration.identifier x
                                WHERE x.source_system_key = 'hr' AND x.target_table = 'core.person' AND x.target_id = c.target_id)::text AS linked,
                       EXISTS (SELECT FROM integration.match_suspect s
                                WHERE s.target_table = 'core.person'
                                  AND least(s.target_id, s.candidate_id) = least(c.target_id, h.target_id)
                                  AND greatest(s.target_id, s.candidate_id) = greatest(c.target_id, h.target_id))::text AS suspected
                  FROM unnest(\(sample.map(\.key))::text[], \(sample.map { $0.truth ?? "" })::text[]) AS t(key, truth)
                  JOIN integration.identifier c ON c.source_system_key = 'crm' AND c.target_table = 'core.person' AND c.external_key = t.key
                  LEFT JOIN integration.identifier h ON h.source_system_key = 'hr' AND h.target_table = 'core.person'
                                                    AND h.external_key = nullif(t.truth, '')
                """)
            #expect(outcome.count == sample.count)
            let truth = Dictionary(uniqueKeysWithValues: sample.map { ($0.key, $0.truth) })
            var (rightLinks, wrongLinks, rightSuspects, missed) = (0, 0, 0, 0)
            for row in outcome {
                let isDuplicate = truth[row[0]!]! != nil
                let linked = row[2] == "true"
                if linked && isDuplicate && row[1] == "true" {
                    rightLinks += 1
                } else if linked {
                    wrongLinks += 1
                } else if isDuplicate && row[3] == "true" {
                    rightSuspects += 1
                } else if isDuplicate {
                    missed += 1
                }
            }
            let duplicates = sample.filter { $0.truth != nil }.count
            let suspects = try await db.int("SELECT count(*) FROM integration.match_suspect WHERE source_system_key = 'crm'")
            let links = rightLinks + wrongLinks
            func percent(_ part: Int, _ whole: Int) -> String { whole == 0 ? "-" : String(format: "%.1f%%", 100 * Double(part) / Double(whole)) }
            print(
                """
                identity resolution, seeded set: \(people.count) people in hr; crm sends \(duplicates) of them under new keys and \
                \(sample.count - duplicates) new people (README rules)
                  link:    precision \(percent(rightLinks, links)) (\(rightLinks)/\(links)), recall \(percent(rightLinks, duplicates))
                  suspect: precision \(percent(rightSuspects, suspects)) (\(rightSuspects)/\(suspects) pairs), \
                recall \(percent(rightSuspects, duplicates)) of all duplicates
                  link + suspect recall \(percent(rightLinks + rightSuspects, duplicates)) (\(missed) missed)
                """)
            #expect(wrongLinks == 0, "no false link")
            #expect(Double(rightLinks + rightSuspects) >= 0.95 * Double(duplicates), "recall of link + suspect")
            // Every link's Record entry names its rule and score.
            #expect(
                try await db.int(
                    "SELECT count(*) FROM integration.ledger WHERE source_system_key = 'crm' AND ledger_aspect = 'Record' AND match_rule IS NOT NULL AND match_score > 0")
                    == rightLinks)
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }

    // MARK: - Racing workers

    /// Two worker processes and two sources racing on new keys for the same
    /// people, several rounds: never two records where a link rule applies.
    @Test(.timeLimit(.minutes(15)))
    func racingWorkersAndSourcesNeverCreateTwoRecordsWhereALinkRuleApplies() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            let perRound = 30
            for round in 1...Self.rounds {
                var generator = SeededPeople(seed: UInt64(100 + round))
                let people = generator.population(perRound).enumerated().map { index, person in
                    // Unique across rounds.
                    SeededPeople.Person(given: person.given, family: person.family + "-R\(round)N\(index)", birth: person.birth)
                }
                // Each source sends everyone once, in three jobs, in opposite orders.
                for job in 0..<3 {
                    let hr = people.indices.filter { $0 % 3 == job }.map { ("E\(round)-\($0)", people[$0]) }
                    let crm = people.indices.reversed().filter { $0 % 3 == job }
                        .map { ("C\(round)-\($0)", SeededPeople.variant(of: people[$0], kind: $0 % 2 == 0 ? .upper : .accents)) }
                    try await db.submitMany(source: "hr", prefix: "hr\(round)-\(job)", hr)
                    try await db.submitMany(source: "crm", prefix: "crm\(round)-\(job)", crm)
                }
                let arguments = [
                    "--exit-when-idle", "--concurrency", "2", "--parallel-chunks", "2", "--chunk-size", "6", "--batch-jobs", "2",
                    "--lease-seconds", "30", "--poll-interval-seconds", "1",
                ]
                let workers = [
                    try WorkerProcess(id: "m\(round)a", url: db.url, arguments: arguments),
                    try WorkerProcess(id: "m\(round)b", url: db.url, arguments: arguments),
                ]
                for worker in workers {
                    let status = await worker.waitForExit(timeout: .seconds(300))
                    #expect(status == 0, "worker \(worker.id) exit \(String(describing: status)):\n\(worker.log.suffix(3000))")
                }
                #expect(
                    try await db.int("SELECT count(*) FROM integration.sync_item i JOIN integration.sync_job j USING (job_id) WHERE j.direction = 'Inbound' AND i.item_status IN ('Pending', 'Failed')") == 0,
                    "round \(round): items left")
                let split = try await db.rows(
                    """
                    SELECT h.external_key FROM integration.identifier h
                      JOIN integration.identifier c ON c.source_system_key = 'crm' AND c.external_key = 'C' || substr(h.external_key, 2)
                     WHERE h.source_system_key = 'hr' AND h.external_key LIKE \("E\(round)-%") AND h.target_id <> c.target_id
                    """)
                #expect(split.isEmpty, "round \(round): two records for \(split.prefix(5))")
                #expect(try await db.int("SELECT count(*) FROM core.person") == perRound * round, "round \(round)")
                #expect(try await db.chainFindings().isEmpty, "round \(round)")
                #expect(try await db.provenanceViolations().isEmpty, "round \(round)")
            }
        }
    }

    /// The race, forced: transaction A resolves crm's new key for a person and
    /// writes her values, uncommitted; transaction B resolves payroll's new
    /// key for the same person and must wait on A's claim of the link rule's
    /// key; once A commits, B links its key to A's record instead of creating
    /// a second one.
    @Test(.timeLimit(.minutes(5)))
    func aCreationUnderALinkRuleWaitsForTheTransactionThatClaimedTheKeyAndLinksToItsRecord() async throws {
        try await TestDatabase.with { db in
            try await db.exec(Self.setup + (try Self.readmeRules("People")))
            let values = [("given_name", "Amélie"), ("family_name", "Dupont"), ("birth_date", "1980-05-03")]
            let match = "{" + values.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ") + "}"
            @Sendable func resolve(_ source: String, _ key: String) -> PostgresQuery {
                """
                SELECT r.target_id, r.created, r.match_rule FROM integration.resolve_records(jsonb_build_array(jsonb_build_object(
                  'n', 1, 'source', \(source)::text, 'table', 'core.person', 'key', \(key)::text, 'hint', NULL, 'creates', true,
                  'match', \(match)::jsonb))) r
                """
            }
            let logger = db.logger
            try await db.client.withConnection { a in
                try await db.client.withConnection { b in
                    _ = try await a.query("BEGIN", logger: logger).collect()
                    let first = try #require(try await a.query(resolve("crm", "C1"), logger: logger).collect().first)
                        .decode((UUID, Bool, String?).self)
                    #expect(first.1 && first.2 == nil, "crm's key creates the record")
                    // Its values, as apply_chunk writes them (write_targets: the match keys follow).
                    let writes = "[" + values.enumerated().map { index, field in
                        "{\"n\": \(index + 1), \"table\": \"core.person\", \"target_id\": \"\(first.0)\", \"aspect\": \"Field\", "
                            + "\"aspect_key\": \"\(field.0)\", \"value\": \"\(field.1)\", \"check\": false}"
                    }.joined(separator: ", ") + "]"
                    _ = try await a.query("SELECT * FROM integration.write_targets(\(writes)::jsonb)", logger: logger).collect()

                    let pid = try #require(try await b.query("SELECT pg_backend_pid()", logger: logger).collect().first).decode(Int32.self)
                    _ = try await b.query("BEGIN", logger: logger).collect()
                    try await withThrowingTaskGroup(of: (UUID, Bool, String?).self) { group in
                        group.addTask {
                            let row = try #require(try await b.query(resolve("payroll", "P1"), logger: logger).collect().first)
                            _ = try await b.query("COMMIT", logger: logger).collect()
                            return try row.decode((UUID, Bool, String?).self)
                        }
                        // B is blocked by A (or, without claims, done without waiting).
                        while true {
                            let state = try await db.rows(
                                """
                                SELECT (cardinality(pg_blocking_pids(pid)) > 0)::text,
                                       (state = 'idle' OR query LIKE 'SELECT r.target_id%' AND state <> 'active')::text
                                  FROM pg_stat_activity WHERE pid = \(pid)
                                """)
                            if state.first?[0] == "true" { break }
                            if state.first?[1] == "true" {
                                Issue.record("payroll's resolve did not wait for crm's claim")
                                break
                            }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        _ = try await a.query("COMMIT", logger: logger).collect()
                        let second = try #require(try await group.next())
                        #expect(second.0 == first.0, "payroll's key names crm's record")
                        #expect(!second.1 && second.2 == "same_name_and_birth_date", "linked by the rule, not created: \(second)")
                    }
                }
            }
            #expect(try await db.int("SELECT count(*) FROM core.person") == 1)
            #expect(try await db.int("SELECT count(DISTINCT target_id) FROM integration.identifier WHERE external_key IN ('C1', 'P1')") == 1)
        }
    }
}

// MARK: - Seeded people

/// Deterministic people and their spellings in another system.
struct SeededPeople {
    struct Person: Sendable, Equatable {
        var given: String
        var family: String
        var birth: String
        var email: String?
    }

    /// A record of crm's sample: its key, what it sends, and the hr key of the
    /// same person (nil: a new person).
    struct Sent: Sendable {
        var key: String
        var person: Person
        var truth: String?
    }

    enum Variant: CaseIterable {
        case same, accents, upper, transposed, missingMiddle, swappedDate, accentsAndUpper
    }

    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
    private mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    static let givens = [
        "Amelie", "Jean", "Marie", "Pierre", "Louise", "Paul", "Claire", "Nicolas", "Sophie", "Thomas", "Camille", "Antoine",
        "Julie", "Lucas", "Emma", "Hugo", "Lea", "Louis", "Chloe", "Gabriel", "Manon", "Arthur", "Ines", "Jules", "Sarah", "Adam",
        "Anna", "Raphael", "Eva", "Nathan", "Alice", "Victor", "Rose", "Simon", "Agnes", "Noel", "Helene", "Rene", "Celine", "Andre",
    ]
    static let middles = ["Claire", "Anne", "Marie", "Pierre", "Louis", "Joseph", "Elise", "Victoire"]
    static let families = [
        "Dupont", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
        "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Andre",
        "Lefevre", "Mercier", "Dupuis", "Lambert", "Bonnet", "Francois", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
        "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clement", "Gauthier", "Dumont",
        "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gerard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval",
        "Joly", "Gautier", "Roger", "Roche", "Roy", "Noel", "Meyer", "Lucas", "Meunier", "Jean", "Perez", "Marchand", "Dufour",
    ]

    /// The key a match rule compares exactly (ASCII names: lower case is enough).
    static func key(_ p: Person) -> String { "\(p.given.lowercased())|\(p.family.lowercased())|\(p.birth)" }

    /// `count` people with distinct names and birth dates; a third with a
    /// middle name; every one an e-mail address of their own.
    mutating func population(_ count: Int) -> [Person] {
        var seen = Set<String>()
        var people: [Person] = []
        while people.count < count {
            var given = pick(Self.givens)
            if next() % 3 == 0 { given += " " + pick(Self.middles) }
            let person = Person(
                given: given, family: pick(Self.families),
                birth: String(format: "%04d-%02d-%02d", int(1950...2000), int(1...12), int(1...28)))
            guard seen.insert(Self.key(person)).inserted else { continue }
            people.append(person)
        }
        return people.enumerated().map { index, p in
            var p = p
            p.email = "\(p.given.replacingOccurrences(of: " ", with: ".")).\(p.family).\(index)@example.org".lowercased()
            return p
        }
    }

    /// crm's sample: `duplicates` of `people` (hr keys E1…) under keys C…,
    /// in the spellings of `Variant` (a quarter with their e-mail address, in
    /// capitals), and `newcomers` new people, a third of them near-namesakes
    /// of hr's people (another birth year, one letter of the family name
    /// changed, or another given name); shuffled.
    mutating func crm(of people: [Person], duplicates: Int, newcomers: Int) -> [Sent] {
        var sent: [Sent] = []
        var order = Array(people.indices)
        for i in order.indices.reversed() { order.swapAt(i, Int(next() % UInt64(i + 1))) }
        for (n, index) in order.prefix(duplicates).enumerated() {
            let kinds = Variant.allCases
            var variant = Self.variant(of: people[index], kind: kinds[n % kinds.count])
            variant.email = n % 4 == 0 ? people[index].email?.uppercased() : nil
            sent.append(Sent(key: "C\(sent.count + 1)", person: variant, truth: "E\(index + 1)"))
        }
        var taken = Set(people.map(Self.key))
        var added = 0
        while added < newcomers {
            var person: Person
            if added % 3 == 0 {
                let model = people[int(0...(people.count - 1))]
                switch int(0...2) {
                case 0: person = Person(given: model.given, family: model.family, birth: String(format: "%04d", int(1950...2000)) + model.birth.dropFirst(4))
                case 1: person = Person(given: model.given, family: model.family + "s", birth: model.birth)
                default: person = Person(given: pick(Self.givens), family: model.family, birth: model.birth)
                }
            } else {
                person = Person(
                    given: pick(Self.givens), family: pick(Self.families),
                    birth: String(format: "%04d-%02d-%02d", int(1950...2000), int(1...12), int(1...28)))
            }
            guard taken.insert(Self.key(person)).inserted else { continue }
            person.email = "new.\(added)@example.net"
            sent.append(Sent(key: "C\(sent.count + 1)", person: person, truth: nil))
            added += 1
        }
        for i in sent.indices.reversed() { sent.swapAt(i, Int(next() % UInt64(i + 1))) }
        return sent
    }

    /// `person` as another system spells it.
    static func variant(of person: Person, kind: Variant) -> Person {
        var p = person
        p.email = nil
        switch kind {
        case .same: break
        case .accents: p.given = accented(p.given); p.family = accented(p.family)
        case .upper: p.family = p.family.uppercased(); p.given = p.given.lowercased()
        case .transposed:
            var letters = Array(p.family)
            if let i = (1..<(letters.count - 1)).first(where: { letters[$0] != letters[$0 + 1] }) { letters.swapAt(i, i + 1) }
            p.family = String(letters)
        case .missingMiddle:
            if let space = p.given.firstIndex(of: " ") { p.given = String(p.given[..<space]) } else { p.given = accented(p.given).uppercased() }
        case .swappedDate:
            let parts = p.birth.split(separator: "-")
            if let day = Int(parts[2]), day <= 12, parts[1] != parts[2] {
                p.birth = "\(parts[0])-\(parts[2])-\(parts[1])"
            } else {
                p.family = accented(p.family)
            }
        case .accentsAndUpper: p.given = accented(p.given).uppercased(); p.family = accented(p.family)
        }
        return p
    }

    /// The first letter that has an accented form, accented (É for E, è for e, ...).
    static func accented(_ text: String) -> String {
        let forms: [Character: Character] = [
            "e": "é", "a": "à", "o": "ô", "u": "ü", "i": "ï", "c": "ç", "n": "ñ", "E": "É", "A": "À", "O": "Ô", "U": "Ü", "I": "Ï",
        ]
        var characters = Array(text)
        if let i = characters.firstIndex(where: { forms[$0] != nil }) { characters[i] = forms[characters[i]]! }
        return String(characters)
    }
}

extension TestDatabase {
    /// One inbound job of every person's fields (given_name, family_name,
    /// birth_date, email when known), a record's items together, inserted in
    /// one statement as an upstream's transaction would.
    @discardableResult
    func submitMany(source: String, prefix: String, _ people: [(key: String, person: SeededPeople.Person)]) async throws -> Int64 {
        var keys: [String] = [], fields: [String] = [], values: [String] = []
        for (key, person) in people {
            for (field, value) in [("given_name", person.given), ("family_name", person.family), ("birth_date", person.birth), ("email", person.email)] {
                guard let value else { continue }
                keys.append(key)
                fields.append(field)
                values.append(value)
            }
        }
        let jobKey = "\(prefix)-\(UUID().uuidString)"
        return Int64(
            try await int(
                """
                WITH j AS (INSERT INTO integration.sync_job (source_system_key, entity_type, job_key)
                           VALUES (\(source), 'core.person', \(jobKey)) RETURNING job_id),
                     i AS (INSERT INTO integration.sync_item (job_id, seq, external_key, operation, field_name, new_value)
                           SELECT j.job_id, u.o, u.k, 'Set', u.f, u.v
                             FROM j, unnest(\(keys)::text[], \(fields)::text[], \(values)::text[]) WITH ORDINALITY AS u(k, f, v, o))
                SELECT job_id FROM j
                """))
    }

    /// The SQLSTATE `query` fails with, nil when it succeeds.
    func sqlState(_ query: PostgresQuery) async throws -> String? {
        do {
            _ = try await client.query(query, logger: logger).collect()
            return nil
        } catch {
            return PostgresErrors.sqlState(error)?.code
        }
    }
}
