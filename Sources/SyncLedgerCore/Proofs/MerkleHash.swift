/// The hashes of the Merkle log, RFC 9162 §2.1.1 with SHA-256: a leaf and an
/// interior node are hashed with different one-byte prefixes, so that no leaf
/// can pass for a node (second-preimage resistance).
public enum MerkleHash {
    /// The root of the empty tree, MTH({}) = SHA-256 of the empty string,
    /// `e3b0c442…b855`.
    public static let emptyRoot = Digest(SHA256.digestWords(UnsafeRawBufferPointer(start: nil, count: 0)))

    /// The leaf hash of one entry, MTH({d}) = SHA-256(0x00 || d).
    public static func leaf(_ bytes: some Collection<UInt8>) -> Digest {
        let count = bytes.count
        return withUnsafeTemporaryAllocation(byteCount: count + 1, alignment: 8) { buffer in
            buffer[0] = 0x00
            var offset = 1
            for byte in bytes {
                buffer[offset] = byte
                offset += 1
            }
            return Digest(SHA256.digestWords(UnsafeRawBufferPointer(buffer)))
        }
    }

    /// The hash of an interior node, SHA-256(0x01 || left || right).
    public static func node(_ left: Digest, _ right: Digest) -> Digest {
        withUnsafeTemporaryAllocation(byteCount: 1 + 2 * Digest.byteCount, alignment: 8) { buffer in
            buffer[0] = 0x01
            left.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[1..<(1 + Digest.byteCount)]))
            right.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[(1 + Digest.byteCount)...]))
            return Digest(SHA256.digestWords(UnsafeRawBufferPointer(buffer)))
        }
    }

    /// k of RFC 9162 §2.1.1: the largest power of two smaller than `n`, for
    /// `n` ≥ 2 (where a tree of `n` leaves splits).
    static func split(_ n: Int) -> Int {
        1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// Whether `n` is a power of two (1, 2, 4, …).
    static func isPowerOfTwo(_ n: Int) -> Bool {
        n > 0 && n & (n - 1) == 0
    }
}
