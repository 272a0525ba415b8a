/// Source precedence (SPEC §2 step 4, *Authority*).
///
/// A source's rank is its position in the policy's `authoritative_sources`
/// (0 = highest precedence); a source that is not listed ranks after all listed
/// ones, and an empty list makes every source equal.
public enum Authority {
    /// The rank of `source` under `authoritativeSources`; lower wins.
    public static func rank(of source: String, in authoritativeSources: [String]) -> Int {
        authoritativeSources.firstIndex(of: source) ?? authoritativeSources.count
    }

    /// Whether `owner` strictly outranks `challenger`. Equal ranks (the same
    /// source, two unlisted sources, or an empty list) never outrank.
    public static func outranks(_ owner: String, _ challenger: String, in authoritativeSources: [String]) -> Bool {
        rank(of: owner, in: authoritativeSources) < rank(of: challenger, in: authoritativeSources)
    }
}
