/// A complete (perfect) subtree of the log: the `2^level` leaves
/// `[index · 2^level, (index + 1) · 2^level)`. Level 0 holds the leaves
/// themselves (the hash of `PerfectSubtree(level: 0, index: i)` is the leaf
/// hash of entry `i`); the subtree at `(level + 1, i)` has the subtrees
/// `(level, 2i)` and `(level, 2i + 1)` as its children.
///
/// Its hash never changes once the log holds its last leaf, which is why the
/// database stores these hashes (keyed by level and index), and why roots and
/// proofs of any size can be computed from them (``MerkleProofPlan``).
public struct PerfectSubtree: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The height: the subtree has `2^level` leaves.
    public var level: Int
    /// The position among the subtrees of its level, from 0.
    public var index: Int

    /// The subtree of `2^level` leaves at `index`.
    public init(level: Int, index: Int) {
        self.level = level
        self.index = index
    }

    /// The indices of the leaves it covers.
    public var leaves: Range<Int> { (index << level)..<((index + 1) << level) }

    /// By level, then index.
    public static func < (lhs: PerfectSubtree, rhs: PerfectSubtree) -> Bool {
        (lhs.level, lhs.index) < (rhs.level, rhs.index)
    }

    /// `(level, index)`.
    public var description: String { "(\(level), \(index))" }
}
