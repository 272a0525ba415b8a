import SyncLedgerCore
import Testing

/// The row literal the ledger's digests hash (docs/proofs.md, "Row hashes"):
/// PostgreSQL's record_out quoting. The database's own output is compared in
/// the inclusion-proof tests; these pin the rules.
@Suite("Row literal: PostgreSQL's text of a row")
struct RowLiteralTests {
    @Test func theDocumentsExample() {
        #expect(RowLiteral.text(["2", "7", "core.person", "a b", nil, ""]) == #"(2,7,core.person,"a b",,"")"#)
    }

    @Test func quotesAndBackslashesAreDoubledInsideQuotes() {
        #expect(RowLiteral.text([#"say "hi""#]) == #"("say ""hi""")"#)
        #expect(RowLiteral.text([#"a\b"#]) == #"("a\\b")"#)
        #expect(RowLiteral.text(["(x)", "a,b", "tab\there", "new\nline"]) == "(\"(x)\",\"a,b\",\"tab\there\",\"new\nline\")")
    }

    @Test func plainValuesStayBare() {
        #expect(RowLiteral.text(["Amélie", "0.9500", "-1", "3617a6c6-201c-4038-91fb-3b312acf4a29"])
            == "(Amélie,0.9500,-1,3617a6c6-201c-4038-91fb-3b312acf4a29)")
        #expect(RowLiteral.text([nil, nil]) == "(,)")
    }
}
