/// A row of `integration.value_map`: one source code translated to the
/// organisation's canonical code.
public struct ValueMapping: Sendable, Equatable {
    public var sourceSystem: String
    public var codeList: String
    public var sourceCode: String
    public var canonicalCode: String
    /// 0...1; below a policy's `min_confidence` the value is held for a steward.
    public var confidence: Double

    public init(sourceSystem: String, codeList: String, sourceCode: String, canonicalCode: String, confidence: Double = 1) {
        self.sourceSystem = sourceSystem
        self.codeList = codeList
        self.sourceCode = sourceCode
        self.canonicalCode = canonicalCode
        self.confidence = confidence
    }
}

/// Value maps indexed for inbound lookups.
public struct ValueMapBook: Sendable {
    private struct Key: Hashable {
        var source: String
        var codeList: String
        var code: String
    }

    private var mappings: [Key: ValueMapping]

    public init(_ mappings: [ValueMapping] = []) {
        self.mappings = Dictionary(
            mappings.map { (Key(source: $0.sourceSystem, codeList: $0.codeList, code: $0.sourceCode), $0) },
            uniquingKeysWith: { _, last in last })
    }

    /// The mapping of `code` in `codeList` from `source`, if one exists.
    public func lookup(source: String, codeList: String, code: String) -> ValueMapping? {
        mappings[Key(source: source, codeList: codeList, code: code)]
    }

    public var count: Int { mappings.count }
}
