/// A record as an upstream names it: its source's external key in a table.
public struct RecordRef: Hashable, Sendable {
    public var source: String
    public var table: String
    public var externalKey: String

    public init(source: String, table: String, externalKey: String) {
        self.source = source
        self.table = table
        self.externalKey = externalKey
    }
}

/// Splits a window of items into groups that can run as concurrent chunk
/// transactions without changing any outcome: items that name a common record
/// (their own record, or a Link's related record, which resolving may create)
/// always share a group, in their original order, so one record's items apply
/// in order and one new external key is resolved by one transaction. The split
/// is deterministic: the same window always gives the same groups.
public enum RecordPartitioner {
    /// Indices of `items` (each listing the records it names; empty for an item
    /// that names none, such as one that already failed) in at most `count`
    /// groups, balanced by size, each in the original order. Empty groups are
    /// left out.
    public static func partition(_ items: [[RecordRef]], into count: Int) -> [[Int]] {
        guard count > 1, items.count > 1 else { return items.isEmpty ? [] : [Array(items.indices)] }

        // Union-find over records; an item joins the components of all its records.
        var parent: [Int] = []
        var index: [RecordRef: Int] = [:]
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        func union(_ a: Int, _ b: Int) {
            let (ra, rb) = (find(a), find(b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var itemNode: [Int] = []
        for refs in items {
            // Every item gets a node of its own, so items without records are
            // components of one.
            let node = parent.count
            parent.append(node)
            for ref in refs {
                if let known = index[ref] {
                    union(node, known)
                } else {
                    index[ref] = node
                }
            }
            itemNode.append(node)
        }

        // Components in order of first appearance, each to the smallest group.
        var members: [Int: [Int]] = [:]
        var order: [Int] = []
        for (item, node) in itemNode.enumerated() {
            let root = find(node)
            if members[root] == nil { order.append(root) }
            members[root, default: []].append(item)
        }
        var groups = Array(repeating: [Int](), count: count)
        for root in order {
            // min(by:) keeps the first of equal groups, so ties go to the lowest index.
            let smallest = groups.indices.min { groups[$0].count < groups[$1].count }!
            groups[smallest].append(contentsOf: members[root]!)
        }
        return groups.filter { !$0.isEmpty }.map { $0.sorted() }
    }
}
