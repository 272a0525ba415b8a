import Foundation
import SyncLedgerTestSupport
import Testing

/// SPEC §8 on the command line: `syncledger steward suspects | merge |
/// unmerge | dismiss` and `syncledger match --dry-run`, run as a steward would.
@Suite("syncledger steward suspects|merge|unmerge|dismiss and match --dry-run")
struct IdentityCommandTests {
    /// The README's example rules for people (the SQL block that starts with `-- People`).
    static func peopleRules() throws -> String {
        let block = try ReadmeSQL.block(startingWith: "People")
        return try #require(block, "README.md has no ```sql block starting with -- People")
    }

    static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func aStewardListsMergesUnmergesAndDismissesSuspectPairs() async throws {
        try await TestDatabase.with { db in
            try await db.exec(
                Scenario.standard
                    + "UPDATE integration.commit_policy SET commit_mode = 'OnIngest', auto_certify = true WHERE field_name = 'birth_date';\n"
                    + (try Self.peopleRules()))
            try await db.submit(items: [
                .set("E1", "given_name", "Marie Claire"), .set("E1", "family_name", "Dupont"), .set("E1", "birth_date", "1980-05-03"),
                .set("E2", "given_name", "Jean"), .set("E2", "family_name", "Martin"), .set("E2", "birth_date", "1970-01-01"),
            ])
            try await db.runWorker()
            // crm: Marie without her middle name (a suspect), and Jean's namesake born a day later (a suspect too).
            try await db.submit(source: "crm", items: [
                .set("C1", "given_name", "Marie"), .set("C1", "family_name", "Dupont"), .set("C1", "birth_date", "1980-05-03"),
                .set("C2", "given_name", "Jean"), .set("C2", "family_name", "Martin"), .set("C2", "birth_date", "1970-01-02"),
            ])
            try await db.runWorker()
            #expect(try await db.int("SELECT count(*) FROM core.person") == 4)

            // The dry run reports what the rules find among existing records, and changes nothing.
            let preview = try await CommandProcess.run(["match", "--dry-run", "--table", "core.person", "--json"], url: db.url)
            #expect(preview.status == 0, "\(preview.stderr)")
            let rules = try Self.objects(preview.stdout)
            let similar = try #require(rules.first { $0["rule_name"] as? String == "like_name_and_birth_date" }, "\(preview.stdout)")
            #expect((similar["pairs"] as? Int ?? 0) >= 2, "\(similar)")
            let table = try await CommandProcess.run(["match", "--dry-run", "--table", "core.person"], url: db.url)
            #expect(table.status == 0 && table.stdout.contains("samples of like_name_and_birth_date:"), "\(table.stdout)\(table.stderr)")
            let notDry = try await CommandProcess.run(["match", "--table", "core.person"], url: db.url)
            #expect(notDry.status != 0 && notDry.stderr.contains("only --dry-run is available"), "\(notDry.stderr)")
            let unknown = try await CommandProcess.run(["match", "--dry-run", "--table", "core.nothing"], url: db.url)
            #expect(unknown.status == 1 && unknown.stderr.contains("core.nothing is not a registered target table"), "\(unknown.stderr)")
            #expect(try await db.int("SELECT count(*) FROM integration.record_merge") == 0)

            let listed = try await CommandProcess.run(["steward", "suspects", "--json"], url: db.url)
            #expect(listed.status == 0, "\(listed.stderr)")
            let pairs = try Self.objects(listed.stdout)
            #expect(pairs.count == 2, "\(listed.stdout)")
            let marie = try #require(pairs.first { $0["target_keys"] as? String == "crm:C1" }, "\(listed.stdout)")
            let jean = try #require(pairs.first { $0["target_keys"] as? String == "crm:C2" }, "\(listed.stdout)")
            #expect(marie["candidate_keys"] as? String == "hr:E1")
            let marieID = try #require(marie["suspect_id"] as? Int), jeanID = try #require(jean["suspect_id"] as? Int)
            let shown = try await CommandProcess.run(["steward", "suspects"], url: db.url)
            #expect(shown.status == 0 && shown.stdout.contains("crm:C1") && shown.stdout.contains("like_name_and_birth_date"), "\(shown.stdout)")

            // Merge the pair: crm's key now names hr's record, the other record is inactive.
            let merged = try await CommandProcess.run(["steward", "merge", "--suspect", "\(marieID)", "--as", "alice", "--notes", "same person", "--json"], url: db.url)
            #expect(merged.status == 0, "\(merged.stderr)")
            let merge = try #require(try Self.objects(merged.stdout).first, "\(merged.stdout)")
            let mergeID = try #require(merge["merge_id"] as? Int, "\(merge)")
            #expect(try await db.recordID("C1", source: "crm") == (try await db.recordID("E1")))
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE is_active") == 3)
            let after = try await CommandProcess.run(["steward", "suspects", "--status", "merged", "--json"], url: db.url)
            #expect(try Self.objects(after.stdout).map { $0["suspect_id"] as? Int } == [marieID], "\(after.stdout)")
            // Not a steward: the server's refusal, said plainly.
            let refused = try await CommandProcess.run(["steward", "unmerge", "\(mergeID)", "--as", "carol"], url: db.url)
            #expect(refused.status == 1 && refused.stderr.hasPrefix("error: user \"carol\" is not a steward"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("PSQLError"))

            let unmerged = try await CommandProcess.run(["steward", "unmerge", "\(mergeID)", "--as", "alice"], url: db.url)
            #expect(unmerged.status == 0, "\(unmerged.stderr)")
            #expect(try await db.recordID("C1", source: "crm") != (try await db.recordID("E1")))
            #expect(try await db.int("SELECT count(*) FROM core.person WHERE is_active") == 4)
            let again = try await CommandProcess.run(["steward", "unmerge", "\(mergeID)", "--as", "alice"], url: db.url)
            #expect(again.status == 1 && !again.stderr.isEmpty, "\(again.stderr)")

            // Namesakes: dismissed, and no longer open.
            let dismissed = try await CommandProcess.run(["steward", "dismiss", "\(jeanID)", "--as", "alice", "--notes", "namesakes", "--json"], url: db.url)
            #expect(dismissed.status == 0, "\(dismissed.stderr)")
            #expect(try Self.objects(dismissed.stdout).first?["status"] as? String == "dismissed", "\(dismissed.stdout)")
            let open = try await CommandProcess.run(["steward", "suspects", "--json"], url: db.url)
            #expect(try Self.objects(open.stdout).compactMap { $0["suspect_id"] as? Int } == [marieID], "\(open.stdout)")
            let usage = try await CommandProcess.run(["steward", "merge", "--suspect", "\(marieID)", UUID().uuidString], url: db.url)
            #expect(usage.status != 0 && usage.stderr.contains("name the records (SURVIVOR MERGED) or a suspect pair"), "\(usage.stderr)")
            #expect(try await db.chainFindings().isEmpty)
            #expect(try await db.provenanceViolations().isEmpty)
        }
    }
}
