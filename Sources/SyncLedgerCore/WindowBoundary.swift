/// Where a window of a claim's items may end: not inside the run of one
/// record's items. A record's items usually come together (a submitted file
/// sends one record's columns one after another), and a new record is
/// matched (SPEC §8) on the values it arrives with in its chunk: cut in two,
/// its first half would be created before its other values are seen.
public enum WindowBoundary {
    /// `window` without the trailing run of items that name the same record
    /// as its last item, when the window is `full` (more items may follow);
    /// a window that is all one record's items stays whole. The items left
    /// out are the first of the next window.
    public static func trimmed(_ window: [InboundItem], full: Bool) -> [InboundItem] {
        guard full, let last = window.last else { return window }
        var end = window.count
        while end > 0, sameRecord(window[end - 1], last) { end -= 1 }
        return end == 0 ? window : Array(window[..<end])
    }

    private static func sameRecord(_ a: InboundItem, _ b: InboundItem) -> Bool {
        a.jobID == b.jobID && a.sourceSystem == b.sourceSystem && a.targetTable == b.targetTable && a.externalKey == b.externalKey
    }
}
