/// The tree of the first `size` leaves of the log, seen through the hashes of
/// its perfect subtrees as the database stores them: roots and proofs
/// computed from those, the same as ``MerkleTree`` computes from the leaves.
///
/// Each call asks `subtreeHash` once for each perfect subtree it needs
/// (``MerkleProofPlan/subtrees``); to fetch them in one query, make the plan
/// first and build the tree over the fetched rows
/// (``init(size:stored:)``).
public struct StoredMerkleTree {
    /// The number of leaves.
    public let size: Int
    private let subtreeHash: (PerfectSubtree) throws -> Digest

    /// The tree of size `size` whose perfect subtrees have the hashes
    /// `subtreeHash` returns (level 0: the leaf hashes).
    public init(size: Int, subtreeHash: @escaping (PerfectSubtree) throws -> Digest) {
        self.size = size
        self.subtreeHash = subtreeHash
    }

    /// The tree of size `size` whose perfect-subtree hashes are `stored`; a
    /// subtree missing from it throws ``MerkleTreeError/missingSubtree(_:)``.
    public init(size: Int, stored: [PerfectSubtree: Digest]) {
        self.init(size: size) { subtree in
            guard let hash = stored[subtree] else { throw MerkleTreeError.missingSubtree(subtree) }
            return hash
        }
    }

    /// The root, MTH(D[0:size]).
    public func root() throws -> Digest {
        try single(MerkleProofPlan.root(size: size))
    }

    /// MTH(D[range]) for a non-empty range within the tree that starts at a
    /// multiple of the largest power of two not above its length (so that it
    /// ends at a multiple of it too, or at the tree's size).
    public func hash(of range: Range<Int>) throws -> Digest {
        guard range.upperBound <= size else { throw MerkleTreeError.sizeBeyondTree(size: range.upperBound, treeSize: size) }
        return try single(MerkleProofPlan.range(range))
    }

    /// The audit path of leaf `index`, RFC 9162 §2.1.3.1.
    public func inclusionProof(index: Int) throws -> [Digest] {
        try MerkleProofPlan.inclusion(index: index, size: size).hashes(subtreeHash)
    }

    /// The consistency proof from the tree of the first `first` leaves to
    /// this one, RFC 9162 §2.1.4.1.
    public func consistencyProof(from first: Int) throws -> [Digest] {
        try MerkleProofPlan.consistency(from: first, to: size).hashes(subtreeHash)
    }

    private func single(_ plan: MerkleProofPlan) throws -> Digest {
        try plan.hashes(subtreeHash).first ?? MerkleHash.emptyRoot
    }
}
