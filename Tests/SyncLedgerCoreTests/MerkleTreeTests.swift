import Foundation
import Testing

@testable import SyncLedgerCore

// Known answers: computed independently with Python's hashlib, by this script
// (RFC 9162 §2.1's MTH, PATH and SUBPROOF, written out literally):
//
//     import hashlib
//     H = lambda b: hashlib.sha256(b).digest()
//     def split(n):
//         k = 1
//         while k * 2 < n: k *= 2
//         return k
//     def mth(d):
//         if not d: return H(b"")
//         if len(d) == 1: return H(b"\x00" + d[0])
//         k = split(len(d)); return H(b"\x01" + mth(d[:k]) + mth(d[k:]))
//     def path(m, d):
//         if len(d) <= 1: return []
//         k = split(len(d))
//         return path(m, d[:k]) + [mth(d[k:])] if m < k else path(m - k, d[k:]) + [mth(d[:k])]
//     def subproof(m, d, b):
//         if m == len(d): return [] if b else [mth(d)]
//         k = split(len(d))
//         return subproof(m, d[:k], b) + [mth(d[k:])] if m <= k else subproof(m - k, d[k:], False) + [mth(d[:k])]
//     leaves = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243",
//                                          "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
//     for n in range(9): print(n, mth(leaves[:n]).hex())
//     big = [i.to_bytes(8, "big") for i in range(100_000)]
//     print(mth(big[:1000]).hex(), mth(big[:65_536]).hex(), mth(big).hex())
//     print(H(b"".join(path(77_777, big))).hex(), H(b"".join(subproof(65_537, big, True))).hex())
//
// The eight leaves and the roots are also the RFC 6962 test vectors of the
// Certificate Transparency and Trillian code bases.

@Suite("Merkle tree log (RFC 9162)")
struct MerkleTreeTests {
    /// The RFC 6962 test leaves.
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map { hex in stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16) ?? 0 } }

    /// MTH of the first n test leaves, n = 0…8.
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static func tree(of leaves: [[UInt8]]) -> MerkleTree {
        var tree = MerkleTree()
        for leaf in leaves { tree.append(leaf: leaf) }
        return tree
    }

    /// A tree of `size` leaves, leaf i being i as 8 bytes big-endian (the script's `big`).
    static func counterTree(size: Int) -> MerkleTree {
        var tree = MerkleTree()
        for i in 0..<size { tree.append(leaf: (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(i) >> UInt64($0 * 8)) }) }
        return tree
    }

    static func digest(_ hex: String) throws -> Digest { try #require(Digest(hex: hex)) }

    static func digests(_ hexes: [String]) throws -> [Digest] { try hexes.map(digest) }

    /// MTH without the memo: the RFC's recursion over the leaf hashes.
    static func naiveRoot(_ leafHashes: ArraySlice<Digest>) -> Digest {
        switch leafHashes.count {
        case 0: return MerkleHash.emptyRoot
        case 1: return leafHashes[leafHashes.startIndex]
        default:
            let middle = leafHashes.startIndex + MerkleHash.split(leafHashes.count)
            return MerkleHash.node(naiveRoot(leafHashes[..<middle]), naiveRoot(leafHashes[middle...]))
        }
    }

    /// A digest with one bit flipped.
    static func flipped(_ digest: Digest, bit: Int) -> Digest {
        var bytes = digest.bytes
        bytes[bit / 8 % 32] ^= 1 << UInt8(bit % 8)
        return Digest(bytes: bytes) ?? digest
    }

    // MARK: Digests and hashing

    @Test func digestsSpellAsLowercaseHex() throws {
        let hex = "00ff10a0b1c2d3e4f5968778695a4b3c2d1e0f00112233445566778899aabbcc"
        let digest = try Self.digest(hex)
        #expect(digest.hex == hex)
        #expect(digest.description == hex)
        #expect(digest.bytes.count == 32 && digest.bytes.first == 0x00 && digest.bytes[1] == 0xff && digest.bytes.last == 0xcc)
        #expect(Digest(bytes: digest.bytes) == digest)
        #expect(Digest(hex: hex.uppercased()) == nil)
        #expect(Digest(hex: String(hex.dropLast())) == nil)
        #expect(Digest(hex: hex + "0") == nil)
        #expect(Digest(hex: "g" + hex.dropFirst()) == nil)
        #expect(Digest(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(try Self.digest(String(repeating: "0", count: 64)) < digest)
    }

    @Test func digestsAreHexStringsInJSON() throws {
        let digest = MerkleHash.emptyRoot
        let json = try JSONEncoder().encode([digest])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(digest.hex)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: json) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Data("[\"\(digest.hex.uppercased())\"]".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Data("[\"abc\"]".utf8)) }
    }

    @Test func oneShotSHA256IsTheIncrementalOne() {
        for length in Array(0...140) + [1000, 4097] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var hasher = SHA256()
            hasher.update(bytes)
            #expect(SHA256.hash(bytes) == hasher.finalize(), "length \(length)")
            #expect(SHA256.hash(bytes[...].lazy.map { $0 }) == hasher.finalize(), "non-contiguous, length \(length)")
        }
    }

    @Test func hashesHaveTheirPrefixes() {
        #expect(MerkleHash.emptyRoot.hex == Self.roots[0])
        #expect(MerkleHash.emptyRoot.bytes == SHA256.hash([UInt8]()))
        #expect(MerkleHash.leaf([1, 2, 3]).bytes == SHA256.hash([0, 1, 2, 3]))
        let (left, right) = (MerkleHash.leaf([1]), MerkleHash.leaf([2]))
        #expect(MerkleHash.node(left, right).bytes == SHA256.hash([1] + left.bytes + right.bytes))
        #expect(MerkleHash.node(left, right) != MerkleHash.node(right, left))
    }

    @Test func splitIsTheLargestPowerOfTwoBelow() {
        let expected = [2: 1, 3: 2, 4: 2, 5: 4, 8: 4, 9: 8, 1000: 512, 1024: 512, 1025: 1024]
        for (n, k) in expected { #expect(MerkleHash.split(n) == k, "n = \(n)") }
        #expect(MerkleHash.split(Int.max) == 1 << 62)
    }

    // MARK: Known answers

    @Test func emptyTreeRootIsTheHashOfNothing() throws {
        let tree = MerkleTree()
        #expect(tree.size == 0)
        #expect(tree.root.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try MerkleProofPlan.root(size: 0).subtrees.isEmpty)
        #expect(try StoredMerkleTree(size: 0, stored: [:]).root() == tree.root)
    }

    @Test func rootsOfSizesOneToEightAreTheKnownAnswers() throws {
        let tree = Self.tree(of: Self.leaves)
        for n in 0...8 {
            #expect(try tree.root(size: n).hex == Self.roots[n], "size \(n)")
            #expect(Self.tree(of: Array(Self.leaves.prefix(n))).root.hex == Self.roots[n], "size \(n)")
        }
        #expect(tree.root.hex == Self.roots[8])
        #expect(tree.leafHashes[1].hex == "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")
    }

    @Test func inclusionPathsAreTheKnownAnswers() throws {
        let tree = Self.tree(of: Self.leaves)
        let expected: [(Int, Int, [String])] = [
            (
                0, 8,
                [
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]
            ),
            (
                5, 8,
                [
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]
            ),
            (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            (
                6, 7,
                [
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]
            ),
            (0, 1, []),
        ]
        for (index, size, path) in expected {
            #expect(try tree.inclusionProof(index: index, size: size) == Self.digests(path), "leaf \(index) of \(size)")
            try MerkleVerifier.verifyInclusion(
                leafHash: tree.leafHashes[index], index: index, treeSize: size, path: Self.digests(path),
                root: Self.digest(Self.roots[size]))
        }
    }

    @Test func consistencyProofsAreTheKnownAnswers() throws {
        let tree = Self.tree(of: Self.leaves)
        let expected: [(Int, Int, [String])] = [
            (
                1, 8,
                [
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]
            ),
            (
                3, 8,
                [
                    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]
            ),
            (
                6, 8,
                [
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]
            ),
            (
                2, 5,
                [
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]
            ),
            (4, 7, ["837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"]),
            (
                7, 8,
                [
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]
            ),
        ]
        for (first, second, path) in expected {
            #expect(try tree.consistencyProof(from: first, to: second) == Self.digests(path), "\(first) to \(second)")
            try MerkleVerifier.verifyConsistency(
                firstSize: first, firstRoot: Self.digest(Self.roots[first]), secondSize: second,
                secondRoot: Self.digest(Self.roots[second]), path: Self.digests(path))
        }
    }

    @Test func aLargerTreeHasTheKnownAnswers() throws {
        let tree = Self.counterTree(size: 100_000)
        #expect(try tree.root(size: 1000).hex == "c89faf3395d034a77c12c76d636db96358d6d2839c3c68f6329a07231e82fce2")
        #expect(try tree.root(size: 65_536).hex == "bc9bca909516d5bf148c2bf2dea0a0d9f717ce4987d2fe7504d6694363b41598")
        #expect(tree.root.hex == "b2819d8ce504d9f5b8752e4059664f0401fa0ee944d7e2be66cbc6e37548751c")
        let path = try tree.inclusionProof(index: 77_777, size: 100_000)
        #expect(path.count == 17)
        #expect(SHA256.hexDigest(of: path.flatMap(\.bytes)) == "8e11add07fb9ac6e7506cb9cefb325766e23bf444a5acd88c9a640ba4f85122c")
        let proof = try tree.consistencyProof(from: 65_537, to: 100_000)
        #expect(proof.count == 18)
        #expect(SHA256.hexDigest(of: proof.flatMap(\.bytes)) == "c5d0b97496fb2d8ca8eddbe4737823249441f3d81b9fde4b8a07d950982955ee")
        #expect(
            MerkleVerifier.isValidInclusion(
                leafHash: tree.leafHashes[77_777], index: 77_777, treeSize: 100_000, path: path, root: tree.root))
        #expect(
            MerkleVerifier.isValidConsistency(
                firstSize: 65_537, firstRoot: try tree.root(size: 65_537), secondSize: 100_000, secondRoot: tree.root, path: proof))
    }

    // MARK: The reference tree

    @Test func theMemoisedTreeIsTheRecursionOfTheRFC() throws {
        let tree = Self.counterTree(size: 70)
        for n in 0...70 { #expect(try tree.root(size: n) == Self.naiveRoot(tree.leafHashes.prefix(n)), "size \(n)") }
        for level in 0...6 {
            for index in 0..<(70 >> level) {
                let subtree = PerfectSubtree(level: level, index: index)
                #expect(tree.hash(of: subtree) == Self.naiveRoot(tree.leafHashes[subtree.leaves]), "\(subtree)")
            }
            #expect(tree.hash(of: PerfectSubtree(level: level, index: 70 >> level)) == nil)
        }
        #expect(tree.hash(of: PerfectSubtree(level: 7, index: 0)) == nil)
        #expect(tree.hash(of: PerfectSubtree(level: -1, index: 0)) == nil)
        #expect(MerkleTree(leafHashes: tree.leafHashes).root == tree.root)
    }

    @Test func theReferenceTreeRefusesWhatItDoesNotHold() {
        let tree = Self.counterTree(size: 5)
        #expect(throws: MerkleTreeError.sizeBeyondTree(size: 6, treeSize: 5)) { try tree.root(size: 6) }
        #expect(throws: MerkleTreeError.negativeSize(-1)) { try tree.root(size: -1) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 5, size: 5)) { try tree.inclusionProof(index: 5, size: 5) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 3, size: 3)) { try tree.inclusionProof(index: 3, size: 3) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: -1, size: 5)) { try tree.inclusionProof(index: -1, size: 5) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 0, size: 0)) { try tree.inclusionProof(index: 0, size: 0) }
        #expect(throws: MerkleTreeError.consistencyFromEmptyTree) { try tree.consistencyProof(from: 0, to: 5) }
        #expect(throws: MerkleTreeError.consistencyBackwards(from: 4, to: 3)) { try tree.consistencyProof(from: 4, to: 3) }
        #expect(throws: MerkleTreeError.sizeBeyondTree(size: 6, treeSize: 5)) { try tree.consistencyProof(from: 2, to: 6) }
        #expect((try? tree.consistencyProof(from: 5, to: 5)) == [])
    }

    // MARK: Every proof up to 64

    @Test func everyInclusionProofUpTo64Verifies() throws {
        let tree = Self.counterTree(size: 64)
        for n in 1...64 {
            let root = try tree.root(size: n)
            for m in 0..<n {
                let path = try tree.inclusionProof(index: m, size: n)
                #expect(path.count == MerkleVerifier.inclusionPathLength(index: m, treeSize: n))
                let computed = try MerkleVerifier.rootFromInclusionProof(leafHash: tree.leafHashes[m], index: m, treeSize: n, path: path)
                #expect(computed == root, "leaf \(m) of \(n)")
            }
        }
    }

    @Test func everyConsistencyProofUpTo64Verifies() throws {
        let tree = Self.counterTree(size: 64)
        let roots = try (0...64).map { try tree.root(size: $0) }
        for n in 1...64 {
            for m in 1...n {
                let path = try tree.consistencyProof(from: m, to: n)
                #expect(path.count == MerkleVerifier.consistencyPathLength(firstSize: m, secondSize: n))
                #expect(throws: Never.self, "\(m) to \(n)") {
                    try MerkleVerifier.verifyConsistency(firstSize: m, firstRoot: roots[m], secondSize: n, secondRoot: roots[n], path: path)
                }
            }
        }
    }

    // MARK: Tampering

    @Test func tamperedInclusionProofsFail() throws {
        let tree = Self.counterTree(size: 64)
        let other = MerkleTree(leafHashes: tree.leafHashes.map { Self.flipped($0, bit: 0) })
        for n in [1, 2, 3, 5, 7, 8, 13, 32, 33, 63, 64] {
            let root = try tree.root(size: n)
            for m in 0..<n {
                let leafHash = tree.leafHashes[m]
                let path = try tree.inclusionProof(index: m, size: n)
                func valid(leafHash: Digest = leafHash, index: Int = m, size: Int = n, path: [Digest] = path, root: Digest = root) -> Bool {
                    MerkleVerifier.isValidInclusion(leafHash: leafHash, index: index, treeSize: size, path: path, root: root)
                }
                #expect(valid())
                for (position, element) in path.enumerated() {
                    for bit in [0, 7, 100, 255] {
                        var tampered = path
                        tampered[position] = Self.flipped(element, bit: bit)
                        #expect(!valid(path: tampered), "bit \(bit) of element \(position), leaf \(m) of \(n)")
                    }
                }
                for bit in [0, 255] { #expect(!valid(leafHash: Self.flipped(leafHash, bit: bit))) }
                #expect(!valid(root: Self.flipped(root, bit: 31)))
                #expect(!valid(index: m + 1))
                if m > 0 { #expect(!valid(index: m - 1), "index \(m - 1) for leaf \(m) of \(n)") }
                // A wrong size with that size's root. (With the right root, a wrong size can pass: when the
                // leaf's path has the same shape in both sizes, as for leaf 0 of 6 and of 7, the path proves
                // the leaf under that root whatever the size claimed. The checkpoint binds the size.)
                if n > 1 { #expect(try !valid(size: n - 1, root: tree.root(size: n - 1))) }
                if n < 64 { #expect(try !valid(size: n + 1, root: tree.root(size: n + 1))) }
                if path.count >= 2 {
                    for position in 0..<(path.count - 1) {
                        var swapped = path
                        swapped.swapAt(position, position + 1)
                        #expect(!valid(path: swapped), "swapped \(position), leaf \(m) of \(n)")
                    }
                }
                #expect(!valid(path: path + [root]))
                if !path.isEmpty { #expect(!valid(path: Array(path.dropLast()))) }
                // The proof for the same leaf position in another tree of the same size.
                if n > 1 { #expect(!valid(path: try other.inclusionProof(index: m, size: n))) }
                #expect(!valid(root: try other.root(size: n)))
            }
        }
    }

    @Test func tamperedConsistencyProofsFail() throws {
        let tree = Self.counterTree(size: 64)
        let other = MerkleTree(leafHashes: tree.leafHashes.map { Self.flipped($0, bit: 9) })
        let roots = try (0...64).map { try tree.root(size: $0) }
        for n in [2, 3, 5, 7, 8, 13, 32, 33, 63, 64] {
            for m in 1..<n {
                let path = try tree.consistencyProof(from: m, to: n)
                func valid(_ m: Int = m, _ n: Int = n, first: Digest? = nil, second: Digest? = nil, path: [Digest] = path) -> Bool {
                    MerkleVerifier.isValidConsistency(
                        firstSize: m, firstRoot: first ?? roots[m], secondSize: n, secondRoot: second ?? roots[n], path: path)
                }
                #expect(valid())
                for (position, element) in path.enumerated() {
                    for bit in [0, 7, 100, 255] {
                        var tampered = path
                        tampered[position] = Self.flipped(element, bit: bit)
                        #expect(!valid(path: tampered), "bit \(bit) of element \(position), \(m) to \(n)")
                    }
                }
                #expect(!valid(first: Self.flipped(roots[m], bit: 3)))
                #expect(!valid(second: Self.flipped(roots[n], bit: 3)))
                #expect(!valid(first: roots[n], second: roots[m]))
                #expect(!valid(m + 1, n) && !valid(m + 1, n, first: roots[m + 1]))
                #expect(!valid(m - 1, n) && !valid(m - 1, n, first: roots[m - 1]))
                #expect(!valid(m, n - 1) && !valid(m, n - 1, second: roots[n - 1]))
                if n < 64 { #expect(!valid(m, n + 1) && !valid(m, n + 1, second: roots[n + 1])) }
                if path.count >= 2 {
                    for position in 0..<(path.count - 1) where path[position] != path[position + 1] {
                        var swapped = path
                        swapped.swapAt(position, position + 1)
                        #expect(!valid(path: swapped), "swapped \(position), \(m) to \(n)")
                    }
                }
                #expect(!valid(path: path + [roots[n]]))
                #expect(!valid(path: Array(path.dropLast())))
                // Another log's proof and roots, for the same sizes.
                #expect(!valid(path: try other.consistencyProof(from: m, to: n)))
                #expect(!valid(first: try other.root(size: m)))
                #expect(!valid(second: try other.root(size: n)))
            }
        }
    }

    @Test func thePathAloneDoesNotBindTheSizeTheCheckpointDoes() throws {
        let tree = Self.counterTree(size: 7)
        let path = try tree.inclusionProof(index: 0, size: 7)
        // Leaf 0's path has the same shape in trees of 6 and 7 leaves.
        #expect(MerkleVerifier.isValidInclusion(leafHash: tree.leafHashes[0], index: 0, treeSize: 6, path: path, root: tree.root))
        let proof = InclusionProof(leafIndex: 0, treeSize: 6, leafHash: tree.leafHashes[0], path: path, root: tree.root)
        #expect(throws: MerkleVerificationError.treeSizeMismatch(proof: 6, checkpoint: 7)) {
            try proof.verify(against: Checkpoint(treeSize: 7, root: tree.root, time: Self.time))
        }
        #expect(throws: MerkleVerificationError.proofForAnotherRoot(proofRoot: tree.root, checkpointRoot: try tree.root(size: 6))) {
            try proof.verify(against: Checkpoint(treeSize: 6, root: try tree.root(size: 6), time: Self.time))
        }
    }

    @Test func verificationSaysWhatFailed() throws {
        let tree = Self.tree(of: Self.leaves)
        let path = try tree.inclusionProof(index: 5, size: 8)
        let leafHash = tree.leafHashes[5]
        func inclusion(index: Int = 5, size: Int = 8, path: [Digest] = path, root: Digest = tree.root) throws(MerkleVerificationError) {
            try MerkleVerifier.verifyInclusion(leafHash: leafHash, index: index, treeSize: size, path: path, root: root)
        }
        #expect(throws: MerkleVerificationError.indexOutOfRange(index: 8, treeSize: 8)) { try inclusion(index: 8) }
        #expect(throws: MerkleVerificationError.indexOutOfRange(index: -1, treeSize: 8)) { try inclusion(index: -1) }
        #expect(throws: MerkleVerificationError.indexOutOfRange(index: 0, treeSize: 0)) { try inclusion(index: 0, size: 0, path: []) }
        #expect(throws: MerkleVerificationError.negativeTreeSize(-8)) { try inclusion(size: -8) }
        #expect(throws: MerkleVerificationError.wrongPathLength(expected: 3, actual: 4)) { try inclusion(path: path + path.prefix(1)) }
        #expect(throws: MerkleVerificationError.wrongPathLength(expected: 3, actual: 2)) { try inclusion(path: Array(path.prefix(2))) }
        let wrongRoot = try tree.root(size: 7)
        #expect(throws: MerkleVerificationError.rootMismatch(expected: wrongRoot, computed: tree.root)) { try inclusion(root: wrongRoot) }
        let message = String(describing: MerkleVerificationError.rootMismatch(expected: wrongRoot, computed: tree.root))
        #expect(message.contains("does not lead to the expected root") && message.contains(wrongRoot.hex))

        let roots = try (0...8).map { try tree.root(size: $0) }
        func consistency(_ m: Int, _ n: Int, path: [Digest], first: Digest? = nil, second: Digest? = nil) throws(MerkleVerificationError) {
            try MerkleVerifier.verifyConsistency(
                firstSize: m, firstRoot: first ?? roots[m], secondSize: n, secondRoot: second ?? roots[n], path: path)
        }
        #expect(throws: MerkleVerificationError.consistencyFromEmptyTree) { try consistency(0, 8, path: []) }
        #expect(throws: MerkleVerificationError.consistencyFromEmptyTree) { try consistency(0, 0, path: []) }
        #expect(throws: MerkleVerificationError.consistencyBackwards(firstSize: 5, secondSize: 3)) { try consistency(5, 3, path: []) }
        #expect(throws: MerkleVerificationError.emptyConsistencyPath) { try consistency(3, 8, path: []) }
        #expect(throws: MerkleVerificationError.equalSizesWithPath(count: 1)) { try consistency(8, 8, path: [roots[8]]) }
        #expect(throws: MerkleVerificationError.equalSizesDifferentRoots(first: roots[8], second: roots[7])) {
            try consistency(8, 8, path: [], second: roots[7])
        }
        try consistency(8, 8, path: [])
        try consistency(1, 1, path: [])
        let proof = try tree.consistencyProof(from: 3, to: 8)
        #expect(throws: MerkleVerificationError.wrongPathLength(expected: 4, actual: 5)) { try consistency(3, 8, path: proof + [roots[1]]) }
        #expect(throws: MerkleVerificationError.wrongPathLength(expected: 4, actual: 3)) {
            try consistency(3, 8, path: Array(proof.dropLast()))
        }
        #expect(throws: MerkleVerificationError.firstRootMismatch(expected: roots[2], computed: roots[3])) {
            try consistency(3, 8, path: proof, first: roots[2])
        }
        #expect(throws: MerkleVerificationError.secondRootMismatch(expected: roots[7], computed: roots[8])) {
            try consistency(3, 8, path: proof, second: roots[7])
        }
        // When the first tree is a complete subtree, its root is the proof's first value (RFC 9162 §2.1.4.2
        // step 2), so a wrong one shows as a wrong second root.
        let fromFour = try tree.consistencyProof(from: 4, to: 8)
        let wrongFour = Self.flipped(roots[4], bit: 0)
        #expect(
            throws: MerkleVerificationError.secondRootMismatch(
                expected: roots[8], computed: MerkleHash.node(wrongFour, try #require(fromFour.first)))
        ) {
            try consistency(4, 8, path: fromFour, first: wrongFour)
        }
    }

    // MARK: Proofs from stored perfect subtrees

    @Test func storedSubtreesGiveTheReferenceProofsUpTo70() throws {
        let tree = Self.counterTree(size: 70)
        for n in 0...70 {
            var calls: [PerfectSubtree] = []
            let stored = StoredMerkleTree(size: n) { subtree in
                calls.append(subtree)
                return try #require(tree.hash(of: subtree))
            }
            #expect(try stored.root() == tree.root(size: n), "root of \(n)")
            #expect(calls == (try MerkleProofPlan.root(size: n).subtrees), "root of \(n) asks for its plan's subtrees, once each")
            #expect(try MerkleProofPlan.root(size: n).subtrees.count == n.nonzeroBitCount)
            for m in 0..<n {
                #expect(try stored.inclusionProof(index: m) == tree.inclusionProof(index: m, size: n), "leaf \(m) of \(n)")
            }
            for m in 0...n where m > 0 {
                #expect(try stored.consistencyProof(from: m) == tree.consistencyProof(from: m, to: n), "\(m) to \(n)")
            }
        }
    }

    @Test func storedSubtreesGiveTheReferenceProofsAtLargerSizes() throws {
        let size = 70_000
        let tree = Self.counterTree(size: size)
        var random = SplitMix64(seed: 9162)
        var sizes = [size, 65_536, 65_537, 32_767, 50_000, 49_999]
        for _ in 0..<30 { sizes.append(Int.random(in: 1...size, using: &random)) }
        for n in sizes {
            var stored: [PerfectSubtree: Digest] = [:]
            func fetch(_ plan: MerkleProofPlan) throws {
                for subtree in plan.subtrees {
                    let hash = try #require(tree.hash(of: subtree))
                    stored[subtree] = hash
                }
            }
            let m = Int.random(in: 0..<n, using: &random)
            let first = Int.random(in: 1...n, using: &random)
            let rootPlan = try MerkleProofPlan.root(size: n)
            let inclusionPlan = try MerkleProofPlan.inclusion(index: m, size: n)
            let consistencyPlan = try MerkleProofPlan.consistency(from: first, to: n)
            for plan in [rootPlan, inclusionPlan, consistencyPlan] {
                try fetch(plan)
                // Few rows to fetch: at most two per level.
                #expect(plan.subtrees.count <= 2 * (Int.bitWidth - n.leadingZeroBitCount), "\(plan.subtrees.count) subtrees for size \(n)")
            }
            let view = StoredMerkleTree(size: n, stored: stored)
            #expect(try view.root() == tree.root(size: n))
            #expect(try rootPlan.hashes(from: stored) == [tree.root(size: n)])
            #expect(try inclusionPlan.hashes(from: stored) == tree.inclusionProof(index: m, size: n), "leaf \(m) of \(n)")
            #expect(try consistencyPlan.hashes(from: stored) == tree.consistencyProof(from: first, to: n), "\(first) to \(n)")
            #expect(try view.inclusionProof(index: m) == tree.inclusionProof(index: m, size: n))
            #expect(try view.consistencyProof(from: first) == tree.consistencyProof(from: first, to: n))
        }
    }

    @Test func rangesAreRowsOfPerfectSubtrees() throws {
        let tree = Self.counterTree(size: 70)
        let stored = StoredMerkleTree(size: 70) { try #require(tree.hash(of: $0)) }
        #expect(MerkleProofPlan.decomposition(of: 0..<0) == [])
        #expect(
            MerkleProofPlan.decomposition(of: 0..<7) == [.init(level: 2, index: 0), .init(level: 1, index: 2), .init(level: 0, index: 6)])
        #expect(MerkleProofPlan.decomposition(of: 64..<70) == [.init(level: 2, index: 16), .init(level: 1, index: 34)])
        #expect(MerkleProofPlan.decomposition(of: 2..<6) == nil)
        #expect(
            MerkleProofPlan.decomposition(of: 4..<11) == [.init(level: 2, index: 1), .init(level: 1, index: 4), .init(level: 0, index: 10)])
        #expect(MerkleProofPlan.decomposition(of: 2..<7) == nil)
        #expect(MerkleProofPlan.decomposition(of: 6..<7) == [.init(level: 0, index: 6)])
        #expect(MerkleProofPlan.decomposition(of: -2..<0) == nil)
        #expect(PerfectSubtree(level: 3, index: 2).leaves == 16..<24)
        for start in 0..<70 {
            for end in (start + 1)...70 {
                let range = start..<end
                guard MerkleProofPlan.decomposition(of: range) != nil else {
                    #expect(throws: MerkleTreeError.unalignedRange(range)) { try stored.hash(of: range) }
                    continue
                }
                #expect(try stored.hash(of: range) == Self.naiveRoot(tree.leafHashes[range]), "\(range)")
            }
        }
        #expect(throws: MerkleTreeError.sizeBeyondTree(size: 72, treeSize: 70)) { try stored.hash(of: 64..<72) }
        #expect(throws: MerkleTreeError.unalignedRange(3..<3)) { try MerkleProofPlan.range(3..<3) }
    }

    @Test func storedSubtreesRefuseWhatTheReferenceRefuses() {
        let stored = StoredMerkleTree(size: 5, stored: [:])
        // The first missing by level, then index.
        #expect(throws: MerkleTreeError.missingSubtree(PerfectSubtree(level: 0, index: 4))) { try stored.root() }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 5, size: 5)) { try stored.inclusionProof(index: 5) }
        #expect(throws: MerkleTreeError.consistencyFromEmptyTree) { try stored.consistencyProof(from: 0) }
        #expect(throws: MerkleTreeError.consistencyBackwards(from: 6, to: 5)) { try stored.consistencyProof(from: 6) }
        #expect(throws: MerkleTreeError.negativeSize(-1)) { try MerkleProofPlan.root(size: -1) }
        #expect((try? MerkleProofPlan.consistency(from: 5, to: 5))?.subtrees == [])
        #expect(String(describing: MerkleTreeError.missingSubtree(PerfectSubtree(level: 2, index: 0))).contains("(2, 0)"))
    }

    // MARK: Documents

    static let time = Date(timeIntervalSince1970: 1_777_636_800.25)  // 2026-05-01T12:00:00.25Z

    @Test func checkpointJSONIsStable() throws {
        let checkpoint = Checkpoint(treeSize: 8, root: try Self.digest(Self.roots[8]), time: Self.time, origin: "syncledger prod")
        let json = String(decoding: try ProofJSON.encode(checkpoint), as: UTF8.self)
        #expect(
            json == """
                {
                  "origin" : "syncledger prod",
                  "root" : "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
                  "time" : "2026-05-01T12:00:00.250000Z",
                  "tree_size" : 8
                }
                """)
        #expect(try ProofJSON.decode(Checkpoint.self, from: Data(json.utf8)) == checkpoint)
        let bare = Checkpoint(treeSize: 0, root: MerkleHash.emptyRoot, time: Date(timeIntervalSince1970: 0))
        let bareJSON = String(decoding: try ProofJSON.encode(bare), as: UTF8.self)
        #expect(!bareJSON.contains("origin") && bareJSON.contains("\"1970-01-01T00:00:00Z\""))
        #expect(try ProofJSON.decode(Checkpoint.self, from: Data(bareJSON.utf8)) == bare)
    }

    @Test func checkpointsTolerateKeysTheyDoNotKnow() throws {
        let json = """
            {"tree_size": 3, "root": "\(Self.roots[3])", "time": "2026-05-01T14:00:00.25+02:00",
             "signature": "c2lnbmF0dXJl", "key_id": "k1", "extensions": {"a": [1, 2]}}
            """
        let checkpoint = try ProofJSON.decode(Checkpoint.self, from: Data(json.utf8))
        #expect(checkpoint == Checkpoint(treeSize: 3, root: try Self.digest(Self.roots[3]), time: Self.time))
        for broken in [
            #"{"tree_size": 3, "root": "\#(Self.roots[3])"}"#,
            #"{"tree_size": 3, "root": "\#(Self.roots[3].uppercased())", "time": "2026-05-01T12:00:00Z"}"#,
            #"{"tree_size": 3, "root": "\#(Self.roots[3])", "time": "2026-05-01 12:00"}"#,
            #"{"tree_size": "3", "root": "\#(Self.roots[3])", "time": "2026-05-01T12:00:00Z"}"#,
        ] {
            #expect(throws: DecodingError.self, "\(broken)") { try ProofJSON.decode(Checkpoint.self, from: Data(broken.utf8)) }
        }
    }

    @Test func timesAreRFC3339InUTC() throws {
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339Time.string(from: Self.time) == "2026-05-01T12:00:00.250000Z")
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        #expect(RFC3339Time.string(from: Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        let micro = Date(timeIntervalSince1970: 1_777_636_800.123456)
        #expect(RFC3339Time.string(from: micro) == "2026-05-01T12:00:00.123456Z")
        #expect(RFC3339Time.date(from: RFC3339Time.string(from: micro)).map(RFC3339Time.string(from:)) == "2026-05-01T12:00:00.123456Z")
        let sameInstant = ["2026-05-01T12:00:00.25Z", "2026-05-01t12:00:00.250z", "2026-05-01T14:00:00.25+02:00", "2026-05-01T11:30:00.25-00:30"]
        for text in sameInstant {
            #expect(RFC3339Time.date(from: text) == Self.time, "\(text)")
        }
        for bad in [
            "2026-05-01", "2026-05-01T12:00Z", "2026-05-01T12:00:00", "2026-02-29T00:00:00Z", "2026-05-01T12:00:60Z",
            "2026-05-01T12:00:00.Z", "2026-05-01T12:00:00+0200", "2026-05-01T24:00:00Z", "2026-05-01T12:00:00Zjunk",
        ] {
            #expect(RFC3339Time.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test func inclusionProofDocumentsRoundTripAndVerify() throws {
        let tree = Self.tree(of: Self.leaves)
        let checkpoint = Checkpoint(treeSize: 8, root: tree.root, time: Self.time, origin: "syncledger test")
        let leaf = LeafDescription(
            linkHash: try Self.digest(Self.roots[1]), metadata: ["ledger_seq": "6", "recorded_at": "2026-05-01T11:59:59Z"])
        let proof = InclusionProof(
            leafIndex: 6, treeSize: 8, leafHash: tree.leafHashes[6], leaf: leaf, path: try tree.inclusionProof(index: 6, size: 8),
            root: tree.root)
        let data = try ProofJSON.encode(proof)
        let json = String(decoding: data, as: UTF8.self)
        #expect(try ProofJSON.decode(InclusionProof.self, from: data) == proof)
        for key in [
            "\"leaf_index\" : 6", "\"tree_size\" : 8", "\"leaf_hash\" : \"b08693ec", "\"link_hash\" : \"6e340b9c", "\"ledger_seq\" : \"6\"",
            "\"path\" : [",
        ] {
            #expect(json.contains(key), "\(key)")
        }
        let keys = ["leaf", "leaf_hash", "leaf_index", "path", "root", "tree_size"].map { "\n  \"\($0)\" : " }
        let positions = keys.compactMap { json.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted())
        try proof.verify()
        try proof.verify(against: checkpoint)
        try checkpoint.verifyInclusion(proof)

        // No leaf description; a leaf description with values that are not strings.
        var bare = proof
        bare.leaf = nil
        #expect(try ProofJSON.decode(InclusionProof.self, from: ProofJSON.encode(bare)) == bare)
        let odd = #"{"link_hash": "\#(Self.roots[2])", "count": 3, "note": "x", "nested": {"a": "b"}}"#
        #expect(
            try ProofJSON.decode(LeafDescription.self, from: Data(odd.utf8))
                == LeafDescription(linkHash: Self.digest(Self.roots[2]), metadata: ["note": "x"]))

        // Against other checkpoints.
        let smaller = Checkpoint(treeSize: 7, root: try tree.root(size: 7), time: Self.time)
        #expect(throws: MerkleVerificationError.treeSizeMismatch(proof: 8, checkpoint: 7)) { try proof.verify(against: smaller) }
        let otherTree = MerkleTree(leafHashes: tree.leafHashes.reversed())
        let otherCheckpoint = Checkpoint(treeSize: 8, root: otherTree.root, time: Self.time)
        #expect(throws: MerkleVerificationError.proofForAnotherRoot(proofRoot: tree.root, checkpointRoot: otherTree.root)) {
            try proof.verify(against: otherCheckpoint)
        }
        var tampered = proof
        tampered.path[1] = Self.flipped(tampered.path[1], bit: 42)
        #expect(throws: MerkleVerificationError.self) { try tampered.verify() }
        #expect(throws: MerkleVerificationError.rootMismatch(expected: tree.root, computed: Self.rootFrom(tampered))) {
            try tampered.verify(against: checkpoint)
        }
        #expect(Self.failure(tampered, checkpoint).contains("the proof's path does not lead to the expected root"))
        var misstated = proof
        misstated.root = otherTree.root
        #expect(throws: MerkleVerificationError.statedRootMismatch(stated: otherTree.root, computed: tree.root)) {
            try misstated.verify(against: checkpoint)
        }
        var moved = proof
        moved.leafIndex = 7
        #expect(throws: MerkleVerificationError.self) { try moved.verify(against: checkpoint) }
    }

    static func rootFrom(_ proof: InclusionProof) -> Digest {
        (try? MerkleVerifier.rootFromInclusionProof(
            leafHash: proof.leafHash, index: proof.leafIndex, treeSize: proof.treeSize, path: proof.path))
            ?? MerkleHash.emptyRoot
    }

    static func failure(_ proof: InclusionProof, _ checkpoint: Checkpoint) -> String {
        do {
            try proof.verify(against: checkpoint)
            return "verified"
        } catch {
            return String(describing: error)
        }
    }

    @Test func consistencyProofDocumentsRoundTripAndVerify() throws {
        let tree = Self.tree(of: Self.leaves)
        let old = Checkpoint(treeSize: 3, root: try tree.root(size: 3), time: Self.time)
        let new = Checkpoint(treeSize: 8, root: tree.root, time: Self.time.addingTimeInterval(60))
        let proof = ConsistencyProof(
            firstTreeSize: 3, firstRoot: old.root, secondTreeSize: 8, secondRoot: new.root, path: try tree.consistencyProof(from: 3, to: 8))
        let data = try ProofJSON.encode(proof)
        let json = String(decoding: data, as: UTF8.self)
        #expect(try ProofJSON.decode(ConsistencyProof.self, from: data) == proof)
        let keys = ["\"first_root\"", "\"first_tree_size\"", "\"path\"", "\"second_root\"", "\"second_tree_size\""]
        let positions = keys.compactMap { json.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted())
        try proof.verify()
        try proof.verify(from: old, to: new)
        try old.verifyConsistency(to: new, proof: proof)
        #expect(throws: MerkleVerificationError.treeSizeMismatch(proof: 3, checkpoint: 8)) { try proof.verify(from: new, to: new) }
        let forked = Checkpoint(
            treeSize: 8, root: MerkleTree(leafHashes: tree.leafHashes.prefix(7) + [tree.leafHashes[0]]).root, time: Self.time)
        #expect(throws: MerkleVerificationError.secondRootMismatch(expected: forked.root, computed: new.root)) {
            try proof.verify(from: old, to: forked)
        }
        var misstated = proof
        misstated.secondRoot = forked.root
        #expect(throws: MerkleVerificationError.statedRootMismatch(stated: forked.root, computed: new.root)) {
            try misstated.verify(from: old, to: new)
        }
        let same = ConsistencyProof(firstTreeSize: 8, firstRoot: new.root, secondTreeSize: 8, secondRoot: new.root, path: [])
        try same.verify(from: new, to: new)
    }
}

extension MerkleTreeTests {
    /// The JSON examples of docs/proofs.md: a checkpoint, an inclusion proof
    /// and a consistency proof, in this order.
    static func documentationExamples() throws -> [Data] {
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/proofs.md")
        let text = try String(contentsOf: page, encoding: .utf8)
        return text.components(separatedBy: "```json\n").dropFirst().compactMap { block in
            block.components(separatedBy: "\n```").first.map { Data($0.utf8) }
        }
    }

    @Test func theDocumentationExamplesVerifyAndAreWhatIsWritten() throws {
        let examples = try Self.documentationExamples()
        try #require(examples.count == 3)
        let checkpoint = try ProofJSON.decode(Checkpoint.self, from: examples[0])
        let inclusion = try ProofJSON.decode(InclusionProof.self, from: examples[1])
        let consistency = try ProofJSON.decode(ConsistencyProof.self, from: examples[2])
        #expect(checkpoint.root.hex == Self.roots[6] && checkpoint.treeSize == 6)
        try inclusion.verify(against: checkpoint)
        let older = Checkpoint(treeSize: 3, root: try Self.digest(Self.roots[3]), time: checkpoint.time)
        try consistency.verify(from: older, to: checkpoint)
        #expect(try ProofJSON.encode(checkpoint) == examples[0])
        #expect(try ProofJSON.encode(inclusion) == examples[1])
        #expect(try ProofJSON.encode(consistency) == examples[2])
    }
}

/// A small seeded generator, so that the random sizes are the same every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
