/// A root or proof of a tree of size n, as the hashes of ranges of leaves,
/// and those as stored perfect-subtree hashes: what the database must fetch
/// (``subtrees``, in one query) and how to combine it (``hashes(_:)``).
///
/// Every hash in a root or proof is MTH(D[a:b]) for a range `a..<b` whose
/// start is a multiple of the largest power of two not above its length
/// (RFC 9162's recursion only ever splits a range there). Such a range is a
/// row of perfect subtrees of decreasing size, one for each bit of its length,
/// and its MTH folds them from the right:
/// MTH(D[a:b]) = HASH(0x01 || P1 || HASH(0x01 || P2 || … Pk)).
///
/// ```swift
/// let plan = try MerkleProofPlan.inclusion(index: 5, size: 1000)
/// let stored = fetch(plan.subtrees)            // [PerfectSubtree: Digest]
/// let path = try plan.hashes(from: stored)
/// ```
public struct MerkleProofPlan: Sendable, Hashable {
    /// The ranges of leaves whose MTH the plan gives, in the order of the
    /// result (for a proof: the order of its path).
    public let ranges: [Range<Int>]
    /// The perfect subtrees whose stored hashes the plan needs, each once,
    /// by level then index. Empty for the root of the empty tree.
    public let subtrees: [PerfectSubtree]

    private init(ranges: [Range<Int>]) {
        self.ranges = ranges
        var needed = Set<PerfectSubtree>()
        for range in ranges { needed.formUnion(Self.decomposition(of: range) ?? []) }
        subtrees = needed.sorted()
    }

    /// The root of the tree of size `size`, MTH(D[0:size]): one hash.
    public static func root(size: Int) throws(MerkleTreeError) -> MerkleProofPlan {
        guard size >= 0 else { throw .negativeSize(size) }
        return MerkleProofPlan(ranges: [0..<size])
    }

    /// MTH(D[range]): one hash. The range must be non-empty and start at a
    /// multiple of the largest power of two not above its length.
    public static func range(_ range: Range<Int>) throws(MerkleTreeError) -> MerkleProofPlan {
        guard range.lowerBound >= 0, decomposition(of: range) != nil, !range.isEmpty else { throw .unalignedRange(range) }
        return MerkleProofPlan(ranges: [range])
    }

    /// The audit path of leaf `index` in the tree of size `size`, RFC 9162
    /// §2.1.3.1.
    public static func inclusion(index: Int, size: Int) throws(MerkleTreeError) -> MerkleProofPlan {
        guard size >= 0 else { throw .negativeSize(size) }
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, size: size) }
        var ranges: [Range<Int>] = []
        pathRanges(index, 0..<size, into: &ranges)
        return MerkleProofPlan(ranges: ranges)
    }

    /// The consistency proof from size `first` to size `second`, RFC 9162
    /// §2.1.4.1 (empty when the sizes are equal; `first` must be above 0).
    public static func consistency(from first: Int, to second: Int) throws(MerkleTreeError) -> MerkleProofPlan {
        guard first >= 0 else { throw .negativeSize(first) }
        guard first > 0 else { throw .consistencyFromEmptyTree }
        guard first <= second else { throw .consistencyBackwards(from: first, to: second) }
        var ranges: [Range<Int>] = []
        subproofRanges(first, 0..<second, complete: true, into: &ranges)
        return MerkleProofPlan(ranges: ranges)
    }

    /// The plan's hashes, one for each of ``ranges``, from the stored hashes
    /// of its ``subtrees``: `subtreeHash` is called once for each of them.
    public func hashes<Failure: Error>(_ subtreeHash: (PerfectSubtree) throws(Failure) -> Digest) throws(Failure) -> [Digest] {
        var known: [PerfectSubtree: Digest] = [:]
        known.reserveCapacity(subtrees.count)
        for subtree in subtrees { known[subtree] = try subtreeHash(subtree) }
        return ranges.map { range in
            // Every part of every range is one of `subtrees`, so `known` has them all.
            let parts = (Self.decomposition(of: range) ?? []).compactMap { known[$0] }
            guard var hash = parts.last else { return MerkleHash.emptyRoot }
            for part in parts.dropLast().reversed() { hash = MerkleHash.node(part, hash) }
            return hash
        }
    }

    /// The plan's hashes from a dictionary of stored hashes.
    ///
    /// - Throws: ``MerkleTreeError/missingSubtree(_:)`` naming the first of
    ///   ``subtrees`` that `stored` lacks.
    public func hashes(from stored: [PerfectSubtree: Digest]) throws(MerkleTreeError) -> [Digest] {
        try hashes { (subtree) throws(MerkleTreeError) -> Digest in
            guard let hash = stored[subtree] else { throw .missingSubtree(subtree) }
            return hash
        }
    }

    /// The perfect subtrees that make up `range`, left to right, largest
    /// first; `nil` if the range starts below 0 or not at a multiple of the
    /// largest power of two not above its length. Empty for an empty range.
    public static func decomposition(of range: Range<Int>) -> [PerfectSubtree]? {
        guard range.lowerBound >= 0 else { return nil }
        guard !range.isEmpty else { return [] }
        let count = range.count
        let highest = Int.bitWidth - 1 - count.leadingZeroBitCount
        guard range.lowerBound & ((1 << highest) - 1) == 0 else { return nil }
        var parts: [PerfectSubtree] = []
        var start = range.lowerBound
        for level in stride(from: highest, through: 0, by: -1) where count & (1 << level) != 0 {
            parts.append(PerfectSubtree(level: level, index: start >> level))
            start += 1 << level
        }
        return parts
    }

    /// The ranges of PATH(m, D[range]), RFC 9162 §2.1.3.1, deepest first.
    private static func pathRanges(_ m: Int, _ range: Range<Int>, into ranges: inout [Range<Int>]) {
        let n = range.count
        guard n > 1 else { return }
        let k = MerkleHash.split(n)
        let middle = range.lowerBound + k
        if m < k {
            pathRanges(m, range.lowerBound..<middle, into: &ranges)
            ranges.append(middle..<range.upperBound)
        } else {
            pathRanges(m - k, middle..<range.upperBound, into: &ranges)
            ranges.append(range.lowerBound..<middle)
        }
    }

    /// The ranges of SUBPROOF(m, D[range], complete), RFC 9162 §2.1.4.1.
    private static func subproofRanges(_ m: Int, _ range: Range<Int>, complete: Bool, into ranges: inout [Range<Int>]) {
        let n = range.count
        if m == n {
            if !complete { ranges.append(range) }
            return
        }
        let k = MerkleHash.split(n)
        let middle = range.lowerBound + k
        if m <= k {
            subproofRanges(m, range.lowerBound..<middle, complete: complete, into: &ranges)
            ranges.append(middle..<range.upperBound)
        } else {
            subproofRanges(m - k, middle..<range.upperBound, complete: false, into: &ranges)
            ranges.append(range.lowerBound..<middle)
        }
    }
}
