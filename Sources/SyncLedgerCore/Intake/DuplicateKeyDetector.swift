/// Finds record keys that appear more than once in a file, streaming, in
/// memory that does not hold the keys: for each key seen it keeps a 128-bit
/// hash and the line it was (last) seen on — 20 bytes a slot in an open
/// addressing table kept at most 70% full, doubled when fuller: 2²¹ slots,
/// 42 MB, for a million distinct keys, whatever their length.
///
/// The hash is two independent 64-bit SipHash values of the key's UTF-8
/// bytes (Swift's `Hasher`, keyed per process, each with its own prefix), so
/// crafted keys cannot be made to collide. A hit is taken as the same key
/// without comparing the keys themselves (they are not kept). Two different
/// keys among `n` are mistaken for each other with a probability of about
/// n²/2¹²⁹: 1.5·10⁻²⁶ for a million keys, 1.5·10⁻²⁴ for ten million — far
/// below the odds of a memory error in the machine.
///
/// One detector serves one table (a file holds the records of one table).
public struct DuplicateKeyDetector: Sendable {
    private var first: [UInt64]
    private var second: [UInt64]
    /// The line of the key in the slot; 0: the slot is empty.
    private var lines: [UInt32]
    private var mask: Int
    /// Keys remembered.
    public private(set) var count = 0

    /// An empty detector with room for `capacity` keys before it grows.
    public init(capacity: Int = 1024) {
        var size = 16
        while size * 7 / 10 < capacity { size *= 2 }
        first = [UInt64](repeating: 0, count: size)
        second = [UInt64](repeating: 0, count: size)
        lines = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    /// Bytes held by the table.
    public var memoryBytes: Int { lines.count * 20 }

    /// Notes `key` on `line`: `nil` the first time; otherwise the line it was
    /// seen on before — its first line, or with `keepLatest` the latest one
    /// (the remembered line then becomes `line`).
    public mutating func see(_ key: String, line: Int, keepLatest: Bool = false) -> Int? {
        let (a, b) = Self.hash(key)
        let stored = UInt32(clamping: max(line, 1))
        var index = Int(truncatingIfNeeded: a) & mask
        while lines[index] != 0 {
            if first[index] == a && second[index] == b {
                let previous = Int(lines[index])
                if keepLatest { lines[index] = stored }
                return previous
            }
            index = (index + 1) & mask
        }
        first[index] = a
        second[index] = b
        lines[index] = stored
        count += 1
        if count * 10 > lines.count * 7 { grow() }
        return nil
    }

    private mutating func grow() {
        let (oldFirst, oldSecond, oldLines) = (first, second, lines)
        let size = oldLines.count * 2
        first = [UInt64](repeating: 0, count: size)
        second = [UInt64](repeating: 0, count: size)
        lines = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for slot in 0..<oldLines.count where oldLines[slot] != 0 {
            var index = Int(truncatingIfNeeded: oldFirst[slot]) & mask
            while lines[index] != 0 { index = (index + 1) & mask }
            first[index] = oldFirst[slot]
            second[index] = oldSecond[slot]
            lines[index] = oldLines[slot]
        }
    }

    /// Two independent 64-bit hashes of the key's UTF-8 bytes.
    static func hash(_ key: String) -> (UInt64, UInt64) {
        var key = key
        return key.withUTF8 { bytes in
            var one = Hasher()
            one.combine(UInt8(1))
            one.combine(bytes: UnsafeRawBufferPointer(bytes))
            var two = Hasher()
            two.combine(UInt8(2))
            two.combine(bytes: UnsafeRawBufferPointer(bytes))
            return (UInt64(truncatingIfNeeded: one.finalize()), UInt64(truncatingIfNeeded: two.finalize()))
        }
    }
}

/// With ``DuplicateKeys/lastWins``: a record whose key an earlier record of
/// the file had. The earlier record's items were already emitted (a stream
/// cannot take them back), so the caller drops them once it has them all:
/// every staged item with ``externalKey`` and a `seq` below ``beforeSeq``
/// (every such item belongs to an earlier record with the key; a record's
/// items all have `seq`s at or above the `seq` its first item would have).
///
/// For `syncledger submit`, after the COPY into the staging table:
///
/// ```sql
/// DELETE FROM pg_temp.intake_item s
///  USING unnest($1::text[], $2::bigint[]) AS d(external_key, before_seq)
///  WHERE s.external_key = d.external_key AND s.seq < d.before_seq AND s.operation IS NOT NULL
/// ```
///
/// (record markers, `seq` 0, may stay: a snapshot only asks whether a key is
/// in the file). ``drop(from:)`` does the same to an array of items.
public struct Supersession: Sendable, Equatable {
    /// The key both records have.
    public var externalKey: String
    /// The line of the record that wins (for now: a later one may win over it).
    public var line: Int
    /// The line of the record it replaces (the latest before it with the key).
    public var supersededLine: Int
    /// Items of `externalKey` with a `seq` below this belong to earlier records: drop them.
    public var beforeSeq: Int64

    public init(externalKey: String, line: Int, supersededLine: Int, beforeSeq: Int64) {
        self.externalKey = externalKey
        self.line = line
        self.supersededLine = supersededLine
        self.beforeSeq = beforeSeq
    }

    /// `items` without those of superseded records (record markers kept).
    public static func drop(_ supersessions: [Supersession], from items: [StagedItem]) -> [StagedItem] {
        guard !supersessions.isEmpty else { return items }
        var before: [String: Int64] = [:]
        for supersession in supersessions {
            before[supersession.externalKey] = max(before[supersession.externalKey] ?? 0, supersession.beforeSeq)
        }
        return items.filter { item in
            guard item.operation != nil, let limit = before[item.externalKey] else { return true }
            return item.seq >= limit
        }
    }
}
