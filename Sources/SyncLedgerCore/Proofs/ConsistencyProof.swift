/// A consistency proof document: the evidence that the tree of size
/// `firstTreeSize` with root `firstRoot` is a prefix of the tree of size
/// `secondTreeSize` with root `secondRoot`, that the log only appended in
/// between (RFC 9162 §2.1.4).
///
/// JSON (``ProofJSON``):
///
/// ```json
/// {
///   "first_root": "<64 hex digits>",
///   "first_tree_size": 3,
///   "path": ["<64 hex digits>", "…"],
///   "second_root": "<64 hex digits>",
///   "second_tree_size": 8
/// }
/// ```
///
/// Keys this version does not know are ignored when decoding.
public struct ConsistencyProof: Sendable, Hashable, Codable {
    /// The older tree's size (above 0).
    public var firstTreeSize: Int
    /// The older tree's root.
    public var firstRoot: Digest
    /// The newer tree's size (at least ``firstTreeSize``).
    public var secondTreeSize: Int
    /// The newer tree's root.
    public var secondRoot: Digest
    /// PROOF(first, D[second]) of RFC 9162 §2.1.4.1; empty when the sizes are equal.
    public var path: [Digest]

    /// A proof document.
    public init(firstTreeSize: Int, firstRoot: Digest, secondTreeSize: Int, secondRoot: Digest, path: [Digest]) {
        self.firstTreeSize = firstTreeSize
        self.firstRoot = firstRoot
        self.secondTreeSize = secondTreeSize
        self.secondRoot = secondRoot
        self.path = path
    }

    enum CodingKeys: String, CodingKey {
        case firstTreeSize = "first_tree_size"
        case firstRoot = "first_root"
        case secondTreeSize = "second_tree_size"
        case secondRoot = "second_root"
        case path
    }

    /// Verifies the path between the two tree heads the document states (the
    /// document on its own: it proves nothing until those are known to be
    /// checkpoints').
    public func verify() throws(MerkleVerificationError) {
        try MerkleVerifier.verifyConsistency(
            firstSize: firstTreeSize, firstRoot: firstRoot, secondSize: secondTreeSize, secondRoot: secondRoot, path: path)
    }

    /// Verifies the proof between two checkpoints: the sizes must be the
    /// checkpoints' sizes, the path must lead to both checkpoints' roots, and
    /// the document must state those roots.
    public func verify(from first: Checkpoint, to second: Checkpoint) throws(MerkleVerificationError) {
        guard firstTreeSize == first.treeSize else { throw .treeSizeMismatch(proof: firstTreeSize, checkpoint: first.treeSize) }
        guard secondTreeSize == second.treeSize else { throw .treeSizeMismatch(proof: secondTreeSize, checkpoint: second.treeSize) }
        try MerkleVerifier.verifyConsistency(
            firstSize: first.treeSize, firstRoot: first.root, secondSize: second.treeSize, secondRoot: second.root, path: path)
        guard firstRoot == first.root else { throw .statedRootMismatch(stated: firstRoot, computed: first.root) }
        guard secondRoot == second.root else { throw .statedRootMismatch(stated: secondRoot, computed: second.root) }
    }
}
