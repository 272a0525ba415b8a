import Testing

@testable import SyncLedgerCore

@Suite("SQLName: quoted identifiers")
struct SQLNameTests {
    @Test(
        "quote",
        arguments: [
            ("given_name", #""given_name""#),
            ("Given Name", #""Given Name""#),
            (#"a"b"#, #""a""b""#),
            (#"""#, #""""""#),
            (#"name"; DROP TABLE x; --"#, #""name""; DROP TABLE x; --""#),
            ("", #""""#),
        ])
    func quote(name: String, quoted: String) {
        #expect(SQLName.quote(name) == quoted)
    }

    @Test(
        "qualified",
        arguments: [
            ("core.person", #""core"."person""#),
            (#"co"re.per"son"#, #""co""re"."per""son""#),
            ("core.odd.name", #""core"."odd.name""#),
            ("person", #""person""#),
            (#"core.x"; DROP TABLE y; --"#, #""core"."x""; DROP TABLE y; --""#),
        ])
    func qualified(table: String, quoted: String) {
        #expect(SQLName.qualified(table) == quoted)
    }
}
