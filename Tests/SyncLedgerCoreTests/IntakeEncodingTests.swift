import Foundation
import Testing

@testable import SyncLedgerCore

@Suite("COPY text, source timestamps, content keys, progress, ages")
struct IntakeEncodingTests {
    @Test func copyRowsEscapeWhatCOPYWouldReadAsSyntax() {
        let item = StagedItem(seq: 7, externalKey: "E\t1", operation: .set, fieldName: "note", newValue: "a\\b\nc\rd", sourceTimestamp: nil)
        #expect(CopyText.row(item) == "7\tE\\t1\tSet\tnote\ta\\\\b\\nc\\rd\t\\N\t0\n")
        #expect(CopyText.row(StagedItem(seq: 0, externalKey: "Zoë", operation: nil, line: 3)) == "0\tZoë\t\\N\t\\N\t\\N\t\\N\t3\n")
    }

    @Test(
        "timestamps",
        arguments: [
            ("2026-11-25", true), ("2026-11-25T08:00", true), ("2026-11-25 08:00:01", true), ("2026-11-25T08:00:01.123456Z", true),
            ("2026-11-25T08:00:01+02:00", true), ("2026-11-25T08:00:01-0530", true), ("2026-11-25T08:00+02", true),
            ("2024-02-29", true), ("2023-02-29", false), ("2026-13-01", false), ("2026-11-31", false), ("26-11-25", false),
            ("yesterday", false), ("2026-11-25T24:00", false), ("2026-11-25T08:00:00ZZ", false), ("2026-11-25T08", false),
            ("2026-11-25T08:00:00.", false),
        ])
    func timestamps(text: String, valid: Bool) {
        #expect(SourceTimestampText.isValid(text) == valid)
    }

    @Test func sha256MatchesTheFIPSVectors() {
        #expect(SHA256.hexDigest(of: Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hexDigest(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256IsTheSameWhateverTheChunks() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let whole = SHA256.hexDigest(of: bytes)
        for size in [1, 3, 63, 64, 65, 200] {
            var hasher = SHA256()
            var offset = 0
            while offset < bytes.count {
                hasher.update(bytes[offset..<min(offset + size, bytes.count)])
                offset += size
            }
            #expect(hasher.hexDigest() == whole)
        }
    }

    @Test func submissionKeyDependsOnContentMappingAndSnapshot() throws {
        func key(_ text: String, snapshot: Bool = false, mapping: ResolvedMapping? = nil) throws -> String {
            var key = SubmissionKey(mapping: try mapping ?? hrPeople(), format: .commaSeparated, snapshot: snapshot)
            Array(text.utf8).withUnsafeBytes { key.update($0) }
            return key.jobKey
        }
        let base = try key("employee_id,email\nE1,a\n")
        #expect(base.hasPrefix("sha256:") && base.count == 71)
        #expect(base == (try key("employee_id,email\nE1,a\n")))
        #expect(base != (try key("employee_id,email\nE1,b\n")))
        #expect(base != (try key("employee_id,email\nE1,a\n", snapshot: true)))
        #expect(base != (try key("employee_id,email\nE1,a\n", mapping: try hrPeople { $0.emptyCells = .clear })))
    }

    @Test func progressLine() {
        #expect(
            IntakeProgress.line(records: 12_345, items: 61_725, bytesRead: 250, totalBytes: 1000, elapsed: 2)
                == "12,345 records · 61,725 items · 30,863 items/s · 25% · ETA 0:06")
        #expect(IntakeProgress.line(records: 3, items: 9, bytesRead: 100, totalBytes: nil, elapsed: 0) == "3 records · 9 items")
        #expect(IntakeProgress.storing(records: 100_000, items: 500_000) == "100,000 records read · storing 500,000 items in the job …")
        #expect(IntakeProgress.done(records: 100_000, items: 500_000, elapsed: 4) == "100,000 records · 500,000 items in 4.0 s · 125,000 items/s")
        #expect(IntakeProgress.seconds(75) == "1:15")
        #expect(IntakeProgress.grouped(1_234_567) == "1,234,567")
        #expect(IntakeProgress.clock(3725) == "1:02:05")
    }

    @Test(
        "retention ages",
        arguments: [
            ("30d", Int64(2_592_000)), ("12h", 43_200), ("90m", 5400), ("45s", 45), ("2w", 1_209_600), ("1d12h", 129_600),
        ])
    func ages(text: String, seconds: Int64) {
        #expect(RetentionAge(parsing: text)?.seconds == seconds)
    }

    @Test func badAges() {
        for text in ["", "30", "d", "0d", "-1d", "1.5d", "30 days", "1y", "99999999999999999999d"] {
            #expect(RetentionAge(parsing: text) == nil, "\(text)")
        }
        #expect(RetentionAge(seconds: 2_592_000).description == "30d")
        #expect(RetentionAge(seconds: 129_600).description == "1d12h")
        #expect(RetentionAge(seconds: 1_209_600).description == "2w")
    }
}
