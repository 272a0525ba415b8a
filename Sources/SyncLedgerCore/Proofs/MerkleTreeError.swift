/// A request for a Merkle root or proof that cannot be answered: the sizes or
/// the index are out of range, or a stored hash it needs is missing. (A proof
/// that fails to verify is a ``MerkleVerificationError``.)
public enum MerkleTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The tree holds fewer leaves than the size asked for.
    case sizeBeyondTree(size: Int, treeSize: Int)
    /// A size below 0.
    case negativeSize(Int)
    /// An inclusion proof for a leaf that is not in the tree of that size.
    case indexOutOfRange(index: Int, size: Int)
    /// A consistency proof from size 0 (RFC 9162 §2.1.4.1 requires 0 < m).
    case consistencyFromEmptyTree
    /// A consistency proof from a size larger than the size it is to.
    case consistencyBackwards(from: Int, to: Int)
    /// A range of leaves that is empty, not within the tree, or not one the
    /// proof algorithms use (its start must be a multiple of the largest
    /// power of two not above its length).
    case unalignedRange(Range<Int>)
    /// The stored hash of this perfect subtree was not supplied.
    case missingSubtree(PerfectSubtree)

    public var description: String {
        switch self {
        case .sizeBeyondTree(let size, let treeSize): "a tree of size \(size) was asked for, the log holds \(treeSize) leaves"
        case .negativeSize(let size): "the tree size \(size) is negative"
        case .indexOutOfRange(let index, let size): "leaf index \(index) is not in a tree of size \(size)"
        case .consistencyFromEmptyTree: "a consistency proof needs a first tree size above 0"
        case .consistencyBackwards(let from, let to): "no consistency proof from size \(from) to the smaller size \(to)"
        case .unalignedRange(let range): "the leaves \(range) are not a range the proofs use"
        case .missingSubtree(let subtree): "the stored hash of perfect subtree \(subtree) is missing"
        }
    }
}
