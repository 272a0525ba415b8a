import Foundation
import SyncLedgerDevSupport
import SyncLedgerPostgres

/// The server's client tools (pg_dump, pg_restore, psql), next to the server
/// binaries the embedded cluster uses, and other commands on PATH.
package enum PostgresTools {
    /// Runs `tool` with `arguments`, `input` on its stdin; its stdout, or an
    /// error with its stderr.
    package static func run(_ tool: String, _ arguments: [String], input: Data? = nil, password: String? = nil, viaPath: Bool = false) throws -> Data {
        let process = Process()
        if let password { process.environment = ProcessInfo.processInfo.environment.merging(["PGPASSWORD": password]) { $1 } }
        if viaPath {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool] + arguments
        } else {
            process.executableURL = try locate(tool)
            process.arguments = arguments
        }
        let output = Pipe()
        // stderr to a file: reading two pipes in turn could block on the other.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errorFile)
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: input)
            try stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailed(tool: tool, status: process.terminationStatus, stderr: (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
        }
        return data
    }

    /// `tool` beside the server binaries the embedded cluster uses, else in
    /// the newest /usr/lib/postgresql/*/bin that has it.
    package static func locate(_ tool: String) throws -> URL {
        let server = try EmbeddedPostgres.findBinaries()
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        let candidates = [server] + versions.map { URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin") }
        guard let found = candidates.map({ $0.appendingPathComponent(tool) }).first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
        else { throw ToolFailed(tool: tool, status: -1, stderr: "not found beside \(server.path) nor in /usr/lib/postgresql/*/bin") }
        return found
    }

    /// Connection arguments for the libpq tools.
    package static func connection(_ url: DatabaseURL) -> [String] {
        ["--host", url.host, "--port", "\(url.port)", "--username", url.username, "--dbname", url.database ?? url.username]
    }

    package struct ToolFailed: Error, CustomStringConvertible {
        package var tool: String
        package var status: Int32
        package var stderr: String
        package var description: String { "\(tool) exited \(status): \(stderr)" }
    }
}

/// A readable dump of a database's `integration` schema, as kept in
/// `docs/schema.sql`: pg_dump's tables, sequences, types, indexes,
/// constraints, triggers, policies, comments and privileges, and for each
/// function and view its signature and attributes only (their bodies live in
/// `sql/code/`, which the dump names).
package enum SchemaDump {
    package static func of(_ url: DatabaseURL) throws -> String {
        let archive = try PostgresTools.run("pg_dump", PostgresTools.connection(url) + ["--schema-only", "--schema=integration", "--format=custom", "--no-owner"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("schema.dump")
        try archive.write(to: file)
        // Everything but the bodies of functions and views, and the migration record.
        let list = String(decoding: try PostgresTools.run("pg_restore", ["--list", file.path]), as: UTF8.self)
        let kept = list.split(separator: "\n").filter { line in
            !(line.contains(" FUNCTION integration ") || line.contains(" VIEW integration ") || line.contains(" schema_migration "))
        }
        let listFile = directory.appendingPathComponent("list")
        try kept.joined(separator: "\n").write(to: listFile, atomically: true, encoding: .utf8)
        let text = String(
            decoding: try PostgresTools.run("pg_restore", ["--no-owner", "--use-list", listFile.path, "--file", "-", file.path]), as: UTF8.self)
        let body = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") && !$0.hasPrefix("-- Dumped") }
            .joined(separator: "\n")
        return body + "\n" + (try routines(url))
    }

    /// Functions and views: signature, return type, language, security,
    /// settings, and the file that defines them.
    private static func routines(_ url: DatabaseURL) throws -> String {
        let query = """
            SELECT string_agg(line, E'\\n' ORDER BY kind, name) FROM (
              SELECT 1 AS kind, p.oid::regprocedure::text AS name,
                     format(E'-- FUNCTION %s\\n--   RETURNS %s; LANGUAGE %s%s%s%s%s\\n',
                            p.oid::regprocedure, pg_get_function_result(p.oid), l.lanname,
                            CASE p.provolatile WHEN 'i' THEN '; IMMUTABLE' WHEN 's' THEN '; STABLE' ELSE '' END,
                            CASE WHEN p.prosecdef THEN '; SECURITY DEFINER' ELSE '' END,
                            CASE WHEN p.proconfig IS NOT NULL THEN '; SET ' || array_to_string(p.proconfig, ', ') ELSE '' END,
                            coalesce(E'\\n--   EXECUTE: ' || (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END,
                                                                       ', ' ORDER BY 1)
                                                            FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                                           WHERE a.grantee <> p.proowner), '')) AS line
                FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
               WHERE p.pronamespace = 'integration'::regnamespace
              UNION ALL
              SELECT 2, c.relname::text,
                     format(E'-- VIEW integration.%s (%s)\\n', c.relname,
                            (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0))
                FROM pg_class c WHERE c.relnamespace = 'integration'::regnamespace AND c.relkind = 'v') x
            """
        let out = try PostgresTools.run("psql", PostgresTools.connection(url) + ["--no-psqlrc", "--tuples-only", "--no-align", "--command", query])
        return """
            --
            -- Functions and views: their definitions are in sql/code/ (each in exactly one file).
            --

            \(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))

            """
    }
}

extension Migrator {
    /// A copy of the shipped `sql/` with one more versioned file, as the next
    /// release would ship it: a binary pointed at it (`SYNCLEDGER_SQL_DIR`)
    /// finds a database migrated with the shipped files one migration short.
    package static func nextRelease() throws -> (directory: URL, missing: String) {
        let shipped = try locateDirectory()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sql-next-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: shipped, to: copy)
        let name = "999_next_release.sql"
        try "CREATE TABLE integration.next_release (x integer);\n".write(
            to: copy.appendingPathComponent("schema/\(name)"), atomically: true, encoding: .utf8)
        return (copy, "schema/\(name)")
    }
}
