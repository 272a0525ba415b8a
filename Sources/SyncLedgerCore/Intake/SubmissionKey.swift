/// The default `job_key` of a submitted file: a SHA-256 over the mapping
/// (in its canonical text), the submission's options and the file's bytes
/// exactly as read. The same file with the same mapping always gets the same
/// key, so submitting it again is recognised (the key is unique per source)
/// and does nothing; change a byte, the mapping, `--snapshot` or the empty
/// cell rule, and it is a new submission.
public struct SubmissionKey: Sendable {
    private var hasher = SHA256()

    /// Starts the key of a submission of `format` with `mapping`; `snapshot`
    /// (whether records missing from the file are deleted) is part of it.
    public init(mapping: ResolvedMapping, format: IntakeFormat, snapshot: Bool) {
        let preamble = "syncledger submit v1\nformat=\(format.name)\nsnapshot=\(snapshot)\n\(mapping.canonicalText)\n\n"
        hasher.update(Array(preamble.utf8))
    }

    /// Adds the next bytes of the file, as read.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    /// `sha256:` and 64 hexadecimal digits.
    public var jobKey: String { "sha256:" + hasher.hexDigest() }
}
