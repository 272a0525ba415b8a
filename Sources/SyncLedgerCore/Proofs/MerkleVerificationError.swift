/// Why a Merkle proof failed to verify. The description says what failed in
/// words an operator can act on.
public enum MerkleVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A tree size below 0.
    case negativeTreeSize(Int)
    /// The leaf index is not below the tree size (or is negative): no tree of
    /// that size holds that leaf (RFC 9162 §2.1.3.2 step 1).
    case indexOutOfRange(index: Int, treeSize: Int)
    /// The path has more or fewer hashes than a proof for these sizes (or this
    /// index and size) has (RFC 9162 §2.1.3.2 steps 4a and 5, §2.1.4.2 steps 6
    /// and 7: `sn` reached 0 too early, or not at all).
    case wrongPathLength(expected: Int, actual: Int)
    /// Inclusion: the path, hashed up from the leaf hash, leads to another
    /// root than the expected one.
    case rootMismatch(expected: Digest, computed: Digest)
    /// A consistency proof from size 0: RFC 9162 §2.1.4.2 requires 0 < first.
    case consistencyFromEmptyTree
    /// A consistency proof whose first size is above its second.
    case consistencyBackwards(firstSize: Int, secondSize: Int)
    /// A consistency proof between different sizes with no hashes (RFC 9162
    /// §2.1.4.2 step 1).
    case emptyConsistencyPath
    /// A consistency proof between equal sizes that is not empty.
    case equalSizesWithPath(count: Int)
    /// Two tree heads of the same size with different roots: not the same tree.
    case equalSizesDifferentRoots(first: Digest, second: Digest)
    /// Consistency: the path does not lead to the first tree's root.
    case firstRootMismatch(expected: Digest, computed: Digest)
    /// Consistency: the path does not lead to the second tree's root.
    case secondRootMismatch(expected: Digest, computed: Digest)
    /// A proof document is for a tree of another size than the checkpoint.
    case treeSizeMismatch(proof: Int, checkpoint: Int)
    /// A proof document's path leads to the root the document states, but
    /// the checkpoint (of the same size) has another root: the proof is for
    /// another tree, not for this checkpoint.
    case proofForAnotherRoot(proofRoot: Digest, checkpointRoot: Digest)
    /// A proof document's path leads to the checkpoint's root, but the root
    /// the document states is another one: the document contradicts itself.
    case statedRootMismatch(stated: Digest, computed: Digest)

    public var description: String {
        switch self {
        case .negativeTreeSize(let size):
            "the tree size \(size) is negative"
        case .indexOutOfRange(let index, let treeSize):
            "leaf index \(index) is not in a tree of size \(treeSize)"
        case .wrongPathLength(let expected, let actual):
            "the proof's path has \(actual) hashes; a proof for this index and size has \(expected)"
        case .rootMismatch(let expected, let computed):
            "the proof's path does not lead to the expected root \(expected) (it leads to \(computed))"
        case .consistencyFromEmptyTree:
            "a consistency proof needs a first tree size above 0"
        case .consistencyBackwards(let first, let second):
            "the first tree size \(first) is larger than the second, \(second)"
        case .emptyConsistencyPath:
            "the consistency proof between different sizes has no hashes"
        case .equalSizesWithPath(let count):
            "the tree sizes are equal, so the consistency proof must be empty; it has \(count) hashes"
        case .equalSizesDifferentRoots(let first, let second):
            "two trees of the same size have different roots, \(first) and \(second): they are not the same tree"
        case .firstRootMismatch(let expected, let computed):
            "the consistency proof does not lead to the first tree's root \(expected) (it leads to \(computed))"
        case .secondRootMismatch(let expected, let computed):
            "the consistency proof does not lead to the second tree's root \(expected) (it leads to \(computed))"
        case .treeSizeMismatch(let proof, let checkpoint):
            "the proof is for a tree of size \(proof), the checkpoint for a tree of size \(checkpoint)"
        case .proofForAnotherRoot(let proofRoot, let checkpointRoot):
            "the proof is for a tree with root \(proofRoot), not for the checkpoint's root \(checkpointRoot)"
        case .statedRootMismatch(let stated, let computed):
            "the proof's path leads to \(computed), but the proof states the root \(stated)"
        }
    }
}
