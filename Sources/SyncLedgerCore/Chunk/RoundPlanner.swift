/// Splits a chunk's items into rounds so that no two items of one aspect are
/// decided against the same facts: each round holds at most one item per
/// aspect, the shell prepares, decides and writes a round before the next
/// (in the same transaction), and every item sees the writes of the items
/// before it, in processing order (SPEC §2: one record's items apply in order).
///
/// Before the database resolves them, items are told apart by what they name
/// (table, source, external key, aspect). Two sources' keys can name one
/// record, which only resolution shows: of the items of a round that turn out
/// to share an aspect, the first in processing order stays and the others go
/// back to wait for a later round (``settle(_:aspects:)``).
///
/// Almost every chunk is one round; a round costs two statements.
public struct RoundPlanner: Sendable {
    /// What an item names, before resolution.
    public struct Identity: Hashable, Sendable {
        public var table: String
        public var source: String
        public var externalKey: String
        public var aspectKey: String

        public init(table: String, source: String, externalKey: String, aspectKey: String) {
            self.table = table
            self.source = source
            self.externalKey = externalKey
            self.aspectKey = aspectKey
        }
    }

    private let identities: [Identity]
    /// Indices into the items, in processing order, not yet decided.
    private var waiting: [Int]

    /// `identities` in processing order.
    public init(identities: [Identity]) {
        self.identities = identities
        waiting = Array(identities.indices)
    }

    public var isDone: Bool { waiting.isEmpty }

    /// The next round: the first waiting item of each identity, in order.
    public mutating func nextRound() -> [Int] {
        var seen = Set<Identity>()
        var round: [Int] = []
        var rest: [Int] = []
        for index in waiting {
            if seen.insert(identities[index]).inserted { round.append(index) } else { rest.append(index) }
        }
        waiting = rest
        return round
    }

    /// After resolution: of `round`'s items that share an aspect (nil: the
    /// item resolved to no record), the first stays; the others wait for a
    /// later round. Returns the items that stay, in order.
    public mutating func settle(_ round: [Int], aspects: [Int: AspectKey]) -> [Int] {
        var seen = Set<AspectKey>()
        var kept: [Int] = []
        var deferred: [Int] = []
        for index in round {
            if let aspect = aspects[index], !seen.insert(aspect).inserted {
                deferred.append(index)
            } else {
                kept.append(index)
            }
        }
        if !deferred.isEmpty { waiting = (waiting + deferred).sorted() }
        return kept
    }
}
