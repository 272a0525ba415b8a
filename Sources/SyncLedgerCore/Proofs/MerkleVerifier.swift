/// Verification of Merkle proofs, RFC 9162 §2.1.3.2 and §2.1.4.2: pure
/// arithmetic on the proof, no tree needed. Each function follows the RFC's
/// numbered steps; a failure throws a ``MerkleVerificationError`` that says
/// which check failed.
public enum MerkleVerifier {
    /// The root that an inclusion proof leads to: the leaf hash, hashed up
    /// with each element of `path` in turn (RFC 9162 §2.1.3.2 steps 1–4 and
    /// the length check of step 5).
    ///
    /// - Throws: ``MerkleVerificationError/indexOutOfRange(index:treeSize:)``
    ///   if `index` is not in `0..<treeSize`,
    ///   ``MerkleVerificationError/wrongPathLength(expected:actual:)`` if the
    ///   path is longer or shorter than an audit path of that leaf.
    public static func rootFromInclusionProof(
        leafHash: Digest, index: Int, treeSize: Int, path: [Digest]
    ) throws(MerkleVerificationError) -> Digest {
        guard treeSize >= 0 else { throw .negativeTreeSize(treeSize) }
        // Step 1.
        guard index >= 0, index < treeSize else { throw .indexOutOfRange(index: index, treeSize: treeSize) }
        // Steps 2 and 3.
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        // Step 4.
        for p in path {
            guard sn != 0 else {
                throw .wrongPathLength(expected: inclusionPathLength(index: index, treeSize: treeSize), actual: path.count)
            }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        // Step 5, the part about the path's length.
        guard sn == 0 else { throw .wrongPathLength(expected: inclusionPathLength(index: index, treeSize: treeSize), actual: path.count) }
        return r
    }

    /// Verifies that `path` proves the leaf with hash `leafHash` is entry
    /// `index` of the tree of size `treeSize` with root `root` (RFC 9162
    /// §2.1.3.2).
    ///
    /// The path does not bind `treeSize` by itself (where the leaf's path has
    /// the same shape in two sizes, it verifies with either): take the size
    /// and the root from the same checkpoint.
    ///
    /// - Throws: as ``rootFromInclusionProof(leafHash:index:treeSize:path:)``,
    ///   and ``MerkleVerificationError/rootMismatch(expected:computed:)`` if
    ///   the path leads to another root.
    public static func verifyInclusion(
        leafHash: Digest, index: Int, treeSize: Int, path: [Digest], root: Digest
    ) throws(MerkleVerificationError) {
        let computed = try rootFromInclusionProof(leafHash: leafHash, index: index, treeSize: treeSize, path: path)
        guard computed == root else { throw .rootMismatch(expected: root, computed: computed) }
    }

    /// Whether `path` proves the inclusion (``verifyInclusion(leafHash:index:treeSize:path:root:)``).
    public static func isValidInclusion(leafHash: Digest, index: Int, treeSize: Int, path: [Digest], root: Digest) -> Bool {
        (try? verifyInclusion(leafHash: leafHash, index: index, treeSize: treeSize, path: path, root: root)) != nil
    }

    /// Verifies that the tree of size `firstSize` with root `firstRoot` is a
    /// prefix of the tree of size `secondSize` with root `secondRoot`: that
    /// the second tree holds the first tree's leaves, unchanged, in order
    /// (RFC 9162 §2.1.4.2).
    ///
    /// The RFC's algorithm is for `0 < firstSize < secondSize`. Equal sizes
    /// are consistent exactly when the roots are equal and the proof is empty
    /// (what PROOF, SUBPROOF(m, D[m], true) = {}, gives); a first size of 0
    /// is refused.
    public static func verifyConsistency(
        firstSize: Int, firstRoot: Digest, secondSize: Int, secondRoot: Digest, path: [Digest]
    ) throws(MerkleVerificationError) {
        guard firstSize >= 0 else { throw .negativeTreeSize(firstSize) }
        guard secondSize >= 0 else { throw .negativeTreeSize(secondSize) }
        guard firstSize > 0 else { throw .consistencyFromEmptyTree }
        guard firstSize <= secondSize else { throw .consistencyBackwards(firstSize: firstSize, secondSize: secondSize) }
        if firstSize == secondSize {
            guard path.isEmpty else { throw .equalSizesWithPath(count: path.count) }
            guard firstRoot == secondRoot else { throw .equalSizesDifferentRoots(first: firstRoot, second: secondRoot) }
            return
        }
        // Step 1.
        guard !path.isEmpty else { throw .emptyConsistencyPath }
        func wrongLength() -> MerkleVerificationError {
            .wrongPathLength(expected: consistencyPathLength(firstSize: firstSize, secondSize: secondSize), actual: path.count)
        }
        // Step 2: the first tree's root is the first value when the first
        // tree is a complete subtree of the second.
        var hashes = path
        if MerkleHash.isPowerOfTwo(firstSize) { hashes.insert(firstRoot, at: 0) }
        // Step 3.
        var fn = firstSize - 1
        var sn = secondSize - 1
        // Step 4.
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        // Step 5.
        guard let seed = hashes.first else { throw .emptyConsistencyPath }
        var fr = seed
        var sr = seed
        // Step 6.
        for c in hashes.dropFirst() {
            guard sn != 0 else { throw wrongLength() }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        // Step 7.
        guard sn == 0 else { throw wrongLength() }
        guard fr == firstRoot else { throw .firstRootMismatch(expected: firstRoot, computed: fr) }
        guard sr == secondRoot else { throw .secondRootMismatch(expected: secondRoot, computed: sr) }
    }

    /// Whether `path` proves the consistency (``verifyConsistency(firstSize:firstRoot:secondSize:secondRoot:path:)``).
    public static func isValidConsistency(firstSize: Int, firstRoot: Digest, secondSize: Int, secondRoot: Digest, path: [Digest]) -> Bool {
        (try? verifyConsistency(firstSize: firstSize, firstRoot: firstRoot, secondSize: secondSize, secondRoot: secondRoot, path: path))
            != nil
    }

    /// The number of hashes in the audit path of leaf `index` in a tree of
    /// size `treeSize` (`0 ≤ index < treeSize`): the iterations of
    /// §2.1.3.2 step 4 until `sn` is 0.
    public static func inclusionPathLength(index: Int, treeSize: Int) -> Int {
        var fn = index
        var sn = treeSize - 1
        var count = 0
        while sn > 0 {
            if fn & 1 == 0, fn == sn {
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            }
            fn >>= 1
            sn >>= 1
            count += 1
        }
        return count
    }

    /// The number of hashes in a consistency proof from size `firstSize` to
    /// size `secondSize` (`0 < firstSize ≤ secondSize`): the iterations of
    /// §2.1.4.2 step 6 until `sn` is 0, plus the first value unless step 2
    /// supplies it.
    public static func consistencyPathLength(firstSize: Int, secondSize: Int) -> Int {
        guard firstSize > 0, firstSize < secondSize else { return 0 }
        var fn = firstSize - 1
        var sn = secondSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var count = MerkleHash.isPowerOfTwo(firstSize) ? 0 : 1
        while sn > 0 {
            if fn & 1 == 0, fn == sn {
                while fn & 1 == 0, fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            }
            fn >>= 1
            sn >>= 1
            count += 1
        }
        return count
    }
}
