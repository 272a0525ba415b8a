/// The part of an inclusion proof that ties a ledger entry to a leaf of the
/// log, checked with no database (docs/proofs.md, "From an entry to a leaf"):
///
/// 1. the entry's digest (`row_hash`) recomputes from its fields;
/// 2. it is one of the elements of its chain link, and the link hash is
///    SHA-256 of the previous link (or the record's genesis) followed by
///    the elements' row hashes in chain order;
/// 3. the leaf is SHA-256(0x00 || "syncledger link v1" || 0x00 || link hash).
public struct EntryProof: Sendable, Hashable, Codable {
    /// The entry's hashed fields, as `integration.entry_proof` gives them.
    public struct Entry: Sendable, Hashable, Codable {
        public var ledgerID: Int64
        public var targetTable: String
        public var targetID: String
        public var ledgerAspect: String
        public var aspectKey: String
        public var sourceSystemKey: String
        public var value: String?
        public var previousValue: String?
        public var syncItemID: Int64?
        public var jobID: Int64?
        public var sourceTimestampMicroseconds: Int64?
        public var recordedAtMicroseconds: Int64
        public var birthStatus: String?
        public var birthApplySeq: Int64?
        public var notes: String?
        public var holdReason: String?
        public var matchRule: String?
        public var matchScore: String?

        enum CodingKeys: String, CodingKey {
            case ledgerID = "ledger_id", targetTable = "target_table", targetID = "target_id"
            case ledgerAspect = "ledger_aspect", aspectKey = "aspect_key", sourceSystemKey = "source_system_key"
            case value, previousValue = "previous_value", syncItemID = "sync_item_id", jobID = "job_id"
            case sourceTimestampMicroseconds = "source_timestamp_us", recordedAtMicroseconds = "recorded_at_us"
            case birthStatus = "birth_status", birthApplySeq = "birth_apply_seq", notes, holdReason = "hold_reason"
            case matchRule = "match_rule", matchScore = "match_score"
        }
    }

    /// One element of the link: an entry or an event, by its row hash.
    public struct Element: Sendable, Hashable, Codable {
        public var rowHash: Digest
        public var ledgerID: Int64?
        public var eventID: Int64?

        enum CodingKeys: String, CodingKey {
            case rowHash = "row_hash", ledgerID = "ledger_id", eventID = "event_id"
        }
    }

    /// The chain link that sealed the entry.
    public struct Link: Sendable, Hashable, Codable {
        public var targetTable: String
        public var targetID: String
        /// The link before it, or the record's genesis.
        public var previous: Digest
        public var elements: [Element]
        public var hash: Digest
        public var chainSeq: Int64

        enum CodingKeys: String, CodingKey {
            case targetTable = "target_table", targetID = "target_id", previous, elements, hash, chainSeq = "chain_seq"
        }
    }

    public var ledgerID: Int64
    /// 1 (content only) or 2 (content and state at insert).
    public var hashVersion: Int
    public var rowHash: Digest
    public var entry: Entry
    public var link: Link
    public var leafIndex: Int

    enum CodingKeys: String, CodingKey {
        case ledgerID = "ledger_id", hashVersion = "hash_version", rowHash = "row_hash", entry, link
        case leafIndex = "leaf_index"
    }

    /// Why an entry proof does not hold.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The row literal the entry's digest hashes (docs/proofs.md).
    public var digestText: String {
        let e = entry
        func n(_ value: Int64?) -> String? { value.map(String.init) }
        let common: [String?] = [
            String(e.ledgerID), e.targetTable, e.targetID.lowercased(), e.ledgerAspect, e.aspectKey, e.sourceSystemKey, e.value,
            e.previousValue, n(e.syncItemID), n(e.jobID), n(e.sourceTimestampMicroseconds), String(e.recordedAtMicroseconds),
        ]
        if hashVersion == 1 { return RowLiteral.text(common) }
        return RowLiteral.text(
            ["2"] + common + [e.birthStatus, n(e.birthApplySeq), e.notes, e.holdReason, e.matchRule, e.matchScore])
    }

    /// The entry's digest, recomputed.
    public var computedRowHash: Digest { Digest(bytes: SHA256.hash(Array(digestText.utf8)))! }

    /// The link hash, recomputed from the previous link and the elements.
    public var computedLinkHash: Digest {
        Digest(bytes: SHA256.hash(link.previous.bytes + link.elements.flatMap(\.rowHash.bytes)))!
    }

    /// The leaf hash of the link.
    public var leafHash: Digest {
        MerkleHash.leaf(Array("syncledger link v1".utf8) + [0] + link.hash.bytes)
    }

    /// The genesis of a record's chain: where its first link starts.
    public static func genesis(table: String, id: String) -> Digest {
        Digest(bytes: SHA256.hash(Array("syncledger chain \(table) \(id.lowercased())".utf8)))!
    }

    /// Checks steps 1 and 2 (the leaf hash is then ``leafHash``).
    public func verify() throws(Failure) {
        guard computedRowHash == rowHash else {
            throw Failure(description: "ledger entry \(ledgerID): its fields do not hash to its row_hash \(rowHash.hex)")
        }
        guard link.elements.contains(where: { $0.rowHash == rowHash && $0.ledgerID == ledgerID && $0.eventID == nil }) else {
            throw Failure(description: "ledger entry \(ledgerID) is not among the elements of its link")
        }
        guard computedLinkHash == link.hash else {
            throw Failure(description: "the link \(link.hash.hex) does not recompute from its previous link and elements")
        }
        guard link.targetTable == entry.targetTable, link.targetID.lowercased() == entry.targetID.lowercased() else {
            throw Failure(description: "the link belongs to another record")
        }
    }
}
