/// The default `job_key` of a submitted file: a SHA-256 over the mapping
/// (in its canonical text), the submission's options and the file's bytes
/// exactly as read. The same file with the same mapping always gets the same
/// key, so submitting it again is recognised (the key is unique per source)
/// and does nothing; change a byte, the mapping, `--snapshot`, the empty
/// cell rule or an option that changes what the bytes mean (encoding,
/// decimal comma, date order, repeated keys: ``IntakeOptions/canonicalText``),
/// and it is a new submission. With the default options the key is what it
/// was before those options existed.
public struct SubmissionKey: Sendable {
    private var hasher = SHA256()

    /// Starts the key of a submission of `format` with `mapping`; `snapshot`
    /// (whether records missing from the file are deleted) is part of it.
    public init(mapping: ResolvedMapping, format: IntakeFormat, snapshot: Bool) {
        self.init(mapping: mapping, options: IntakeOptions(format: format), snapshot: snapshot)
    }

    /// Starts the key of a submission read with `options` and `mapping`;
    /// `snapshot` (whether records missing from the file are deleted) is part of it.
    public init(mapping: ResolvedMapping, options: IntakeOptions, snapshot: Bool) {
        var preamble = "syncledger submit v1\nformat=\(options.format.name)\nsnapshot=\(snapshot)\n"
        let reading = options.canonicalText
        if !reading.isEmpty { preamble += reading + "\n" }
        preamble += "\(mapping.canonicalText)\n\n"
        hasher.update(Array(preamble.utf8))
    }

    /// Adds the next bytes of the file, as read.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    /// After the file's bytes: the lines left out because their records had
    /// bad values (`--on-bad-rows skip`). Nothing for none, so a clean file
    /// keeps its key; with them, the same file is another submission once the
    /// database takes a value it refused before (a value map added, say), and
    /// the same one while it still refuses the same lines.
    public mutating func skipped(lines: [Int]) {
        guard !lines.isEmpty else { return }
        // A NUL byte first: a submitted file cannot end in one.
        hasher.update(Array(("\u{0}skipped lines " + lines.map(String.init).joined(separator: ",")).utf8))
    }

    /// `sha256:` and 64 hexadecimal digits.
    public var jobKey: String { "sha256:" + hasher.hexDigest() }
}
