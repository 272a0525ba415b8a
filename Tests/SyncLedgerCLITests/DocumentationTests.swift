import Foundation
import SyncLedgerTestSupport
import Testing

@testable import SyncLedgerPostgres
@testable import SyncLedgerWorker

/// Issue 11: the README and the deploy docs stand on their own (no links
/// outside the repository), name every environment variable the sources read
/// and every metric family; the schema contract names every table, column,
/// view and function the migrations create; the dashboard uses real metrics.
@Suite("Documentation")
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static let documents = ["README.md", "deploy/README.md", "docs/schema-contract.md"]

    @Test func linksStayInsideTheRepositoryAndResolve() throws {
        let link = try Regex(#"\]\(([^)#\s]+)(#[^)\s]*)?\)"#)
        for document in Self.documents {
            let text = try Self.read(document)
            #expect(!text.contains("../shared"), "\(document) refers to ../shared")
            let directory = Self.root.appendingPathComponent(document).deletingLastPathComponent()
            for match in text.matches(of: link) {
                let target = String(match.output[1].substring ?? "")
                if target.hasPrefix("http://") || target.hasPrefix("https://") { continue }
                let resolved = directory.appendingPathComponent(target).standardized
                #expect(resolved.path.hasPrefix(Self.root.path), "\(document): \(target) is outside the repository")
                #expect(FileManager.default.fileExists(atPath: resolved.path), "\(document): \(target) does not exist")
            }
        }
    }

    /// The `SYNCLEDGER_*` variables and `DATABASE_URL` that the sources read.
    static func variablesReadBySources() throws -> Set<String> {
        let pattern = try Regex(#""((?:SYNCLEDGER_[A-Z_]+)|DATABASE_URL)""#)
        var names: Set<String> = []
        let sources = Self.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) { names.insert(String(match.output[1].substring ?? "")) }
        }
        return names
    }

    @Test func everyEnvironmentVariableIsDocumented() throws {
        let variables = try Self.variablesReadBySources()
        #expect(variables.isSuperset(of: ["DATABASE_URL", "SYNCLEDGER_LOG_LEVEL", "SYNCLEDGER_LOG_FORMAT", "SYNCLEDGER_PARALLEL_CHUNKS"]))
        let example = try Self.read("deploy/syncledger.env.example")
        let readme = try Self.read("README.md")
        for variable in variables {
            #expect(example.contains("\n\(variable)=") || example.contains("\n#\(variable)="), "\(variable) is not in deploy/syncledger.env.example")
            #expect(readme.contains(variable), "\(variable) is not in README.md")
        }
        #expect(example.contains("verify-ca"))
    }

    @Test func everyMetricFamilyIsInTheTableAndTheDashboardUsesRealOnes() throws {
        let guide = try Self.read("deploy/README.md")
        for family in SyncLedgerMetrics.families {
            #expect(guide.contains("| `\(family.name)` | \(family.kind.rawValue) |"), "\(family.name) is not in deploy/README.md §7")
        }
        let dashboard = try Self.read("deploy/grafana/syncledger.json")
        let parsed = try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any]
        #expect(parsed?["panels"] is [Any])
        let used = Set(dashboard.matches(of: try Regex(#"syncledger_[a-z_]+"#)).map { String($0.output[0].substring ?? "") }
            .map { $0.hasSuffix("_bucket") ? String($0.dropLast(7)) : $0 })
        let known = Set(SyncLedgerMetrics.families.map(\.name))
        #expect(used.subtracting(known).isEmpty, "the dashboard uses unknown metrics: \(used.subtracting(known))")
        #expect(known.subtracting(used).isEmpty, "the dashboard leaves out: \(known.subtracting(used))")
    }

    /// Against a migrated database: every table, view, column and function of
    /// the `integration` schema is named in docs/schema-contract.md.
    @Test func schemaContractNamesEveryObjectOfTheSchema() async throws {
        let contract = try Self.read("docs/schema-contract.md")
        try await TestDatabase.with { db in
            let relations = try await db.rows(
                """
                SELECT c.relname::text, a.attname::text
                  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 WHERE c.relnamespace = 'integration'::regnamespace AND c.relkind IN ('r', 'v')
                 ORDER BY 1, 2
                """)
            // Bookkeeping tables are listed by name; their columns are not an interface.
            let bookkeeping: Set<String> = ["source_order", "config_version"]
            func named(_ name: String) -> Bool {
                contract.contains("`\(name)`") || contract.contains("`\(name)(") || contract.contains("`integration.\(name)`")
            }
            for row in relations {
                let (relation, column) = (row[0]!, row[1]!)
                let relationNamed = named(relation)
                #expect(relationNamed, "table or view \(relation) is missing")
                if !bookkeeping.contains(relation) {
                    let columnNamed = named(column)
                    #expect(columnNamed, "column \(relation).\(column) is missing")
                }
            }
            let functions = try await db.rows(
                "SELECT DISTINCT proname::text FROM pg_proc WHERE pronamespace = 'integration'::regnamespace ORDER BY 1")
            for row in functions {
                let functionNamed = named(row[0]!)
                #expect(functionNamed, "function \(row[0]!) is missing")
            }
            let roles = ["syncledger_upstream", "syncledger_connector", "syncledger_worker", "syncledger_steward", "syncledger_admin"]
            let existing = try await db.rows(
                "SELECT rolname::text FROM pg_roles WHERE rolname IN ('\(unescaped: roles.joined(separator: "','"))') ORDER BY 1")
            #expect(existing.count == roles.count)
            for role in roles {
                let roleNamed = named(role)
                #expect(roleNamed, "role \(role) is missing")
            }
        }
    }
}
