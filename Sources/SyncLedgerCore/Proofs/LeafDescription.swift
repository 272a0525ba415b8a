/// What a leaf of the log stands for, as an inclusion proof document
/// describes it: the hash of the ledger link the leaf commits to, and other
/// facts as strings (which ledger entry, when), for people to read.
///
/// In JSON an object of strings: `link_hash` (64 hex digits) if known, and
/// each of ``metadata`` under its own key. Values that are not strings are
/// ignored when decoding. Nothing here enters the verification: the leaf hash
/// does (how it derives from the link hash is the database's definition of a
/// leaf).
public struct LeafDescription: Sendable, Hashable, Codable {
    /// The hash of the ledger link the leaf commits to.
    public var linkHash: Digest?
    /// Other facts, by name (snake_case); a `link_hash` entry here is not
    /// written (``linkHash`` is).
    public var metadata: [String: String]

    /// A description.
    public init(linkHash: Digest? = nil, metadata: [String: String] = [:]) {
        self.linkHash = linkHash
        self.metadata = metadata
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static let linkHash = Key(stringValue: "link_hash")
    }

    /// Decodes the object of strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        linkHash = try container.decodeIfPresent(Digest.self, forKey: .linkHash)
        var metadata: [String: String] = [:]
        for key in container.allKeys where key.stringValue != Key.linkHash.stringValue {
            if let value = try? container.decode(String.self, forKey: key) { metadata[key.stringValue] = value }
        }
        self.metadata = metadata
    }

    /// Encodes the object of strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(linkHash, forKey: .linkHash)
        for (name, value) in metadata where name != Key.linkHash.stringValue {
            try container.encode(value, forKey: Key(stringValue: name))
        }
    }
}
