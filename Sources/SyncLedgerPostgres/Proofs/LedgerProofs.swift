import Foundation
import Logging
import PostgresNIO
import SyncLedgerCore

/// The ledger against an outside copy (SPEC §6): checkpoints of the Merkle
/// log (`integration.checkpoint()`, sql/code/35_proofs.sql), consistency
/// proofs that today's log extends a checkpoint kept outside, and inclusion
/// proofs of an entry that anyone checks with no database. Which hashes a
/// proof needs is the core's (``MerkleProofPlan``); the database only hands
/// out stored subtree hashes.
public struct LedgerProofs: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Why a proof could not be made.
    public struct ProofError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Appends the sealed links to the log and returns the new tree head, to
    /// be kept outside the database. `origin` names the log (default: the
    /// database's name).
    public func checkpoint(origin: String? = nil) async throws -> Checkpoint {
        // A backlog is taken in bounded calls, each its own transaction,
        // until the log has caught up with the horizon.
        var rows: Listing
        repeat {
            rows = try await Listing.query(
                """
                SELECT c.tree_size, c.root, to_char(c.taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS taken_at,
                       current_database() AS origin, c.complete
                  FROM integration.checkpoint() c
                """, on: client, logger: logger)
        } while rows.value("complete") == "false"
        guard let size = rows.value("tree_size").flatMap(Int.init), let root = rows.value("root").flatMap(Digest.init(hex:)),
            let time = rows.value("taken_at").flatMap(RFC3339Time.date(from:))
        else { throw ProofError(description: "integration.checkpoint() returned no tree head") }
        return Checkpoint(treeSize: size, root: root, time: time, origin: origin ?? rows.value("origin"))
    }

    /// The stored hashes of `subtrees` (`integration.merkle_subtrees`).
    static func subtrees(_ subtrees: [PerfectSubtree], on conn: PostgresConnection, logger: Logger) async throws
        -> [PerfectSubtree: Digest]
    {
        guard !subtrees.isEmpty else { return [:] }
        let json = "[" + subtrees.map { "{\"level\": \($0.level), \"index\": \($0.index)}" }.joined(separator: ",") + "]"
        let rows = try await Listing.query(
            "SELECT level, node_index, encode(hash, 'hex') AS hash FROM integration.merkle_subtrees(\(json)::jsonb)",
            on: conn, logger: logger)
        var stored: [PerfectSubtree: Digest] = [:]
        for row in rows.rows.indices {
            guard let level = rows.value("level", row: row).flatMap(Int.init),
                let index = rows.value("node_index", row: row).flatMap(Int.init),
                let hash = rows.value("hash", row: row).flatMap(Digest.init(hex:))
            else { continue }
            stored[PerfectSubtree(level: level, index: index)] = hash
        }
        return stored
    }

    /// Whether the log today extends `checkpoint`, proven with a consistency
    /// proof from stored subtree hashes, on `conn` (the caller's snapshot).
    /// nil when it does; otherwise what is wrong, in words.
    static func consistency(with checkpoint: Checkpoint, on conn: PostgresConnection, logger: Logger) async throws -> String? {
        let size = Int(
            try await Listing.query("SELECT integration.merkle_size() AS size", on: conn, logger: logger).value("size") ?? "0") ?? 0
        if checkpoint.treeSize > size {
            return "truncated: the log has \(size) leaves, the checkpoint \(checkpoint.treeSize) (leaves were removed or the log rewound)"
        }
        let rootText = try await Listing.query(
            "SELECT encode(integration.merkle_root(\(Int64(size))), 'hex') AS root", on: conn, logger: logger
        ).value("root")
        guard let root = rootText.flatMap(Digest.init(hex:)) else { return "the log's root cannot be computed" }
        let plan = try MerkleProofPlan.consistency(from: checkpoint.treeSize, to: size)
        let stored = try await subtrees(plan.subtrees, on: conn, logger: logger)
        let path: [Digest]
        do {
            path = try plan.hashes(from: stored)
        } catch {
            return "the log lacks stored subtrees the proof needs (\(error)): it was cut"
        }
        if !MerkleVerifier.isValidConsistency(
            firstSize: checkpoint.treeSize, firstRoot: checkpoint.root, secondSize: size, secondRoot: root, path: path)
        {
            return "rewritten: the log's first \(checkpoint.treeSize) leaves are not those of the checkpoint "
                + "(history was rewritten, re-ordered or rewound since \(RFC3339Time.string(from: checkpoint.time)))"
        }
        return nil
    }

    /// An inclusion proof of ledger entry `ledgerID` in the tree of
    /// `checkpoint` (which must be a checkpoint of this log, taken after the
    /// entry was written).
    public func prove(_ ledgerID: Int64, in checkpoint: Checkpoint) async throws -> ProofDocument {
        try await client.withConnection { conn in
            try await conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let json = try await Listing.query(
                    "SELECT integration.entry_proof(\(ledgerID), \(Int64(checkpoint.treeSize)))::text AS proof",
                    on: conn, logger: logger
                ).value("proof")
                let entry = try JSONDecoder().decode(EntryProof.self, from: Data((json ?? "").utf8))
                let plan = try MerkleProofPlan.inclusion(index: entry.leafIndex, size: checkpoint.treeSize)
                let path = try plan.hashes(from: try await Self.subtrees(plan.subtrees, on: conn, logger: logger))
                try await conn.run("COMMIT", logger: logger)
                let inclusion = InclusionProof(
                    leafIndex: entry.leafIndex, treeSize: checkpoint.treeSize, leafHash: entry.leafHash,
                    leaf: LeafDescription(linkHash: entry.link.hash, metadata: ["ledger_id": String(ledgerID)]), path: path,
                    root: checkpoint.root)
                return ProofDocument(checkpoint: checkpoint, inclusion: inclusion, entry: entry)
            } catch {
                if !conn.isClosed { try? await conn.run("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }
}

/// An inclusion proof of a ledger entry as `syncledger prove` prints it:
/// the checkpoint it was made for, the Merkle inclusion proof of the entry's
/// link, and the entry with its link (docs/proofs.md).
public struct ProofDocument: Sendable, Hashable, Codable {
    public var checkpoint: Checkpoint
    public var inclusion: InclusionProof
    public var entry: EntryProof

    public init(checkpoint: Checkpoint, inclusion: InclusionProof, entry: EntryProof) {
        self.checkpoint = checkpoint
        self.inclusion = inclusion
        self.entry = entry
    }

    /// Checks the proof against `trusted`, the auditor's own copy of the
    /// checkpoint, with no database: the entry hashes to its row hash, its
    /// link recomputes, the link is the proof's leaf, and the leaf is in the
    /// tree whose head `trusted` is. Throws what does not hold.
    public func verify(against trusted: Checkpoint) throws {
        try entry.verify()
        guard inclusion.leafHash == entry.leafHash, inclusion.leafIndex == entry.leafIndex else {
            throw LedgerProofs.ProofError(description: "the proof's leaf is not the entry's link")
        }
        guard inclusion.treeSize == trusted.treeSize, inclusion.root == trusted.root else {
            throw LedgerProofs.ProofError(
                description: "the proof is for a tree of \(inclusion.treeSize) leaves with root \(inclusion.root.hex), "
                    + "not the checkpoint's \(trusted.treeSize) leaves with root \(trusted.root.hex)")
        }
        try trusted.verifyInclusion(inclusion)
    }
}
