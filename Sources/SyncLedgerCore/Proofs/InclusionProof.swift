/// An inclusion proof document: the evidence that one leaf is entry
/// `leafIndex` of the tree of size `treeSize` with root `root` (RFC 9162
/// §2.1.3).
///
/// JSON (``ProofJSON``), keys in this order:
///
/// ```json
/// {
///   "leaf": {"link_hash": "<64 hex digits>", "…": "…"},
///   "leaf_hash": "<64 hex digits>",
///   "leaf_index": 5,
///   "path": ["<64 hex digits>", "…"],
///   "root": "<64 hex digits>",
///   "tree_size": 8
/// }
/// ```
///
/// `leaf` (what the leaf stands for) is optional and not part of the
/// verification. Keys this version does not know are ignored when decoding.
public struct InclusionProof: Sendable, Hashable, Codable {
    /// The leaf's position, from 0.
    public var leafIndex: Int
    /// The size of the tree the proof is for.
    public var treeSize: Int
    /// The leaf hash, SHA-256(0x00 || leaf bytes).
    public var leafHash: Digest
    /// What the leaf stands for, if the document says.
    public var leaf: LeafDescription?
    /// The audit path: sibling hashes from the leaf up to the root.
    public var path: [Digest]
    /// The root the path leads to: the root of the checkpoint of size ``treeSize``.
    public var root: Digest

    /// A proof document.
    public init(leafIndex: Int, treeSize: Int, leafHash: Digest, leaf: LeafDescription? = nil, path: [Digest], root: Digest) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.leafHash = leafHash
        self.leaf = leaf
        self.path = path
        self.root = root
    }

    enum CodingKeys: String, CodingKey {
        case leafIndex = "leaf_index"
        case treeSize = "tree_size"
        case leafHash = "leaf_hash"
        case leaf, path, root
    }

    /// Verifies that the path leads from the leaf hash to the root the
    /// document states (the document on its own: it proves nothing until
    /// that root is known to be a checkpoint's).
    public func verify() throws(MerkleVerificationError) {
        try MerkleVerifier.verifyInclusion(leafHash: leafHash, index: leafIndex, treeSize: treeSize, path: path, root: root)
    }

    /// Verifies the proof against a checkpoint: the sizes must be equal and
    /// the path must lead from the leaf hash to the checkpoint's root (and
    /// the document must state that root).
    public func verify(against checkpoint: Checkpoint) throws(MerkleVerificationError) {
        guard treeSize == checkpoint.treeSize else { throw .treeSizeMismatch(proof: treeSize, checkpoint: checkpoint.treeSize) }
        let computed = try MerkleVerifier.rootFromInclusionProof(leafHash: leafHash, index: leafIndex, treeSize: treeSize, path: path)
        guard computed == checkpoint.root else {
            if computed == root { throw .proofForAnotherRoot(proofRoot: root, checkpointRoot: checkpoint.root) }
            throw .rootMismatch(expected: checkpoint.root, computed: computed)
        }
        guard root == computed else { throw .statedRootMismatch(stated: root, computed: computed) }
    }
}
