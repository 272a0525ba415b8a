import Foundation

/// The JSON of checkpoints and proof documents: keys sorted, snake_case (each
/// type names its keys itself), digests as lowercase hex, times as RFC 3339
/// UTC, indented by two spaces, `/` not escaped. The same value gives the
/// same bytes.
public enum ProofJSON {
    /// The JSON of `value`.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The value of type `type` that `data` holds.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        try JSONDecoder().decode(type, from: data)
    }
}
