import Foundation

/// A tree head of the log: its size and root at a time. Written by the
/// database, kept by auditors; proofs are verified against one.
///
/// JSON (``ProofJSON``):
///
/// ```json
/// {"origin": "syncledger prod", "root": "<64 hex digits>", "time": "2026-05-01T12:00:00Z", "tree_size": 1234}
/// ```
///
/// `origin` (which log) is optional. Keys this version does not know are
/// ignored when decoding, so that later versions can add some (a signature
/// and its key id are expected) without breaking verifiers.
public struct Checkpoint: Sendable, Hashable {
    /// The number of leaves.
    public var treeSize: Int
    /// MTH of the first ``treeSize`` leaves.
    public var root: Digest
    /// When the database recorded the tree head (microseconds).
    public var time: Date
    /// The log's name (the database it lives in), if given.
    public var origin: String?

    /// A tree head.
    public init(treeSize: Int, root: Digest, time: Date, origin: String? = nil) {
        self.treeSize = treeSize
        self.root = root
        self.time = time
        self.origin = origin
    }

    /// Verifies that `proof` proves this checkpoint's tree a prefix of
    /// `newer`'s (``ConsistencyProof/verify(from:to:)``).
    public func verifyConsistency(to newer: Checkpoint, proof: ConsistencyProof) throws(MerkleVerificationError) {
        try proof.verify(from: self, to: newer)
    }

    /// Verifies that `proof` proves its leaf in this checkpoint's tree
    /// (``InclusionProof/verify(against:)``).
    public func verifyInclusion(_ proof: InclusionProof) throws(MerkleVerificationError) {
        try proof.verify(against: self)
    }
}

extension Checkpoint: Codable {
    enum CodingKeys: String, CodingKey {
        case treeSize = "tree_size"
        case root, time, origin
    }

    /// Decodes the JSON form; `time` must be an RFC 3339 date-time (``RFC3339Time``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        treeSize = try container.decode(Int.self, forKey: .treeSize)
        root = try container.decode(Digest.self, forKey: .root)
        let text = try container.decode(String.self, forKey: .time)
        guard let time = RFC3339Time.date(from: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: .time, in: container, debugDescription: "\"\(text.prefix(80))\" is not an RFC 3339 date-time")
        }
        self.time = time
        origin = try container.decodeIfPresent(String.self, forKey: .origin)
    }

    /// Encodes the JSON form, `time` in UTC (``RFC3339Time``), whatever the
    /// encoder's date strategy.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(treeSize, forKey: .treeSize)
        try container.encode(root, forKey: .root)
        try container.encode(RFC3339Time.string(from: time), forKey: .time)
        try container.encodeIfPresent(origin, forKey: .origin)
    }
}
