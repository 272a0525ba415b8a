/// An append-only Merkle tree held in memory: the reference implementation
/// of RFC 9162 §2.1 that the database's roots and proofs are checked against.
///
/// Roots and proofs follow the RFC's recursive definitions literally (MTH,
/// PATH, SUBPROOF). What makes them cheap is a memo: the tree keeps the hash
/// of every complete (perfect) subtree, level by level, as the database does;
/// MTH of a range that is such a subtree is looked up instead of recomputed.
/// A root or proof then costs O(log n) hashes, an append amortised O(1).
public struct MerkleTree: Sendable {
    /// `levels[L][i]` is the hash of `PerfectSubtree(level: L, index: i)`;
    /// `levels[0]` are the leaf hashes. Level L holds ⌊size / 2^L⌋ hashes.
    private var levels: [[Digest]] = [[]]

    /// The empty tree.
    public init() {}

    /// The tree of these leaf hashes, in order.
    public init(leafHashes: some Sequence<Digest>) {
        for leafHash in leafHashes { append(leafHash: leafHash) }
    }

    /// The number of leaves.
    public var size: Int { levels[0].count }

    /// The leaf hashes, in order.
    public var leafHashes: [Digest] { levels[0] }

    /// Appends a leaf given by its leaf hash (``MerkleHash/leaf(_:)``).
    public mutating func append(leafHash: Digest) {
        levels[0].append(leafHash)
        var level = 0
        while levels[level].count % 2 == 0 {
            let count = levels[level].count
            let parent = MerkleHash.node(levels[level][count - 2], levels[level][count - 1])
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
        }
    }

    /// Appends a leaf given by its bytes; returns its leaf hash.
    @discardableResult
    public mutating func append(leaf bytes: some Collection<UInt8>) -> Digest {
        let leafHash = MerkleHash.leaf(bytes)
        append(leafHash: leafHash)
        return leafHash
    }

    /// The hash of a perfect subtree, as the database stores it; `nil` if the
    /// tree does not (yet) hold all its leaves.
    public func hash(of subtree: PerfectSubtree) -> Digest? {
        guard subtree.level >= 0, subtree.index >= 0, subtree.level < levels.count, subtree.index < levels[subtree.level].count
        else { return nil }
        return levels[subtree.level][subtree.index]
    }

    /// The root of the whole tree, MTH(D[size]).
    public var root: Digest { hash(0..<size) }

    /// The root of the tree of the first `size` leaves, MTH(D[0:size]).
    public func root(size: Int) throws(MerkleTreeError) -> Digest {
        try check(size: size)
        return hash(0..<size)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves,
    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the sibling hashes from
    /// the leaf up to the root.
    public func inclusionProof(index: Int, size: Int) throws(MerkleTreeError) -> [Digest] {
        try check(size: size)
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, size: size) }
        return path(index, 0..<size)
    }

    /// The consistency proof from the tree of the first `first` leaves to the
    /// tree of the first `second`, PROOF(first, D[0:second]) of RFC 9162
    /// §2.1.4.1. Empty when the sizes are equal (SUBPROOF(m, D[m], true));
    /// `first` must be above 0.
    public func consistencyProof(from first: Int, to second: Int) throws(MerkleTreeError) -> [Digest] {
        try check(size: second)
        guard first >= 0 else { throw .negativeSize(first) }
        guard first > 0 else { throw .consistencyFromEmptyTree }
        guard first <= second else { throw .consistencyBackwards(from: first, to: second) }
        return subproof(first, 0..<second, complete: true)
    }

    private func check(size: Int) throws(MerkleTreeError) {
        guard size >= 0 else { throw .negativeSize(size) }
        guard size <= self.size else { throw .sizeBeyondTree(size: size, treeSize: self.size) }
    }

    /// MTH(D[range]), RFC 9162 §2.1.1; a perfect subtree is looked up.
    private func hash(_ range: Range<Int>) -> Digest {
        let n = range.count
        if n == 0 { return MerkleHash.emptyRoot }
        if MerkleHash.isPowerOfTwo(n), range.lowerBound % n == 0 {
            let level = n.trailingZeroBitCount
            return levels[level][range.lowerBound >> level]
        }
        let middle = range.lowerBound + MerkleHash.split(n)
        return MerkleHash.node(hash(range.lowerBound..<middle), hash(middle..<range.upperBound))
    }

    /// PATH(m, D[range]), RFC 9162 §2.1.3.1; `m` counts from the range's start.
    private func path(_ m: Int, _ range: Range<Int>) -> [Digest] {
        let n = range.count
        if n == 1 { return [] }
        let middle = range.lowerBound + MerkleHash.split(n)
        if m < middle - range.lowerBound {
            return path(m, range.lowerBound..<middle) + [hash(middle..<range.upperBound)]
        } else {
            return path(m - (middle - range.lowerBound), middle..<range.upperBound) + [hash(range.lowerBound..<middle)]
        }
    }

    /// SUBPROOF(m, D[range], b), RFC 9162 §2.1.4.1.
    private func subproof(_ m: Int, _ range: Range<Int>, complete: Bool) -> [Digest] {
        let n = range.count
        if m == n { return complete ? [] : [hash(range)] }
        let k = MerkleHash.split(n)
        let middle = range.lowerBound + k
        if m <= k {
            return subproof(m, range.lowerBound..<middle, complete: complete) + [hash(middle..<range.upperBound)]
        } else {
            return subproof(m - k, middle..<range.upperBound, complete: false) + [hash(range.lowerBound..<middle)]
        }
    }
}
