/// A SHA-256 digest: 32 bytes. The hashes of a Merkle log (leaf hashes,
/// interior nodes, roots) are digests.
///
/// In text and in JSON a digest is exactly 64 lowercase hexadecimal digits
/// (`"6e340b9c…"`); decoding refuses anything else (upper case included), so
/// each digest has one spelling.
public struct Digest: Sendable, Hashable, Comparable {
    /// The bytes, big-endian, eight at a time: no heap storage, and cheap to
    /// compare and hash.
    private let w0, w1, w2, w3: UInt64

    /// The number of bytes in a digest.
    public static let byteCount = 32

    /// The digest with these 32 bytes; `nil` if there are not exactly 32.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (offset, byte) in bytes.enumerated() { words[offset / 8] = words[offset / 8] << 8 | UInt64(byte) }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// The digest spelled by `hex`: exactly 64 lowercase hexadecimal digits;
    /// `nil` for anything else.
    public init?(hex: some StringProtocol) {
        let utf8 = hex.utf8
        guard utf8.count == 2 * Self.byteCount else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var offset = 0
        for char in utf8 {
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
            default: return nil
            }
            switch offset / 16 {
            case 0: words.0 = words.0 << 4 | UInt64(nibble)
            case 1: words.1 = words.1 << 4 | UInt64(nibble)
            case 2: words.2 = words.2 << 4 | UInt64(nibble)
            default: words.3 = words.3 << 4 | UInt64(nibble)
            }
            offset += 1
        }
        (w0, w1, w2, w3) = words
    }

    /// From SHA-256's eight 32-bit output words.
    init(_ words: SHA256.Words) {
        w0 = UInt64(words.0) << 32 | UInt64(words.1)
        w1 = UInt64(words.2) << 32 | UInt64(words.3)
        w2 = UInt64(words.4) << 32 | UInt64(words.5)
        w3 = UInt64(words.6) << 32 | UInt64(words.7)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return bytes
    }

    /// The 64 lowercase hexadecimal digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(2 * Self.byteCount)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Writes the 32 bytes to `buffer`, which has room for them.
    func write(to buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        for word in [w0, w1, w2, w3] {
            buffer.storeBytes(of: word.bigEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
    }

    /// Byte-wise (lexicographic) order, the order of the hex spellings.
    public static func < (lhs: Digest, rhs: Digest) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }
}

extension Digest: CustomStringConvertible {
    /// The hex spelling.
    public var description: String { hex }
}

extension Digest: Codable {
    /// Decodes the hex spelling (a JSON string of 64 lowercase hexadecimal digits).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = Digest(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a digest is 64 lowercase hexadecimal digits, not \"\(text.prefix(80))\"")
        }
        self = digest
    }

    /// Encodes the hex spelling.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
