import Foundation
import Testing

@testable import SyncLedgerCore

/// Deciding a chunk of resolved items in order (SPEC §2 steps 2, 4 and 5, without I/O).
@Suite("ChunkGovernor")
struct ChunkGovernorTests {
    let preparer = Fixtures.preparer()
    let governor = ChunkGovernor(policies: Fixtures.policies)
    let ann = Fixtures.ann
    let bob = Fixtures.bob
    let person = Fixtures.person
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    /// The item as the shell hands it over: resolved, with its canonical
    /// value (a Link's related record id in lower case, `false` for Delete).
    /// Whether it equals the loaded value is filled in by ``decide``.
    func resolved(_ item: InboundItem, target: UUID? = Fixtures.ann, related: UUID? = nil) throws -> ResolvedItem {
        let prepared = try preparer.prepared(item)
        let value: String? =
            if case .link = prepared.change { related.map { $0.uuidString.lowercased() } } else { prepared.proposedValue }
        return ResolvedItem(item: prepared, targetID: target, value: value, equalsLoaded: false)
    }

    func key(_ aspect: String, _ target: UUID = Fixtures.ann, table: String = Fixtures.person) -> AspectKey {
        AspectKey(table: table, targetID: target, aspectKey: aspect)
    }

    func owner(_ source: String, ledgerID: Int64?, stale: Bool = false) -> ValueOwner {
        ValueOwner(source: source, ledgerID: ledgerID, isStale: stale)
    }

    /// Decides, comparing each item with the loaded value as PostgreSQL
    /// compares canonical text of these (text, date, boolean, uuid) columns.
    func decide(
        _ items: [ResolvedItem], creations: [RecordCreation] = [], states: [AspectKey: AspectState] = [:]
    ) -> ChunkDecision {
        let compared = items.map { resolved in
            var resolved = resolved
            if let target = resolved.targetID {
                let key = AspectKey(table: resolved.item.table, targetID: target, aspectKey: resolved.item.aspectKey)
                resolved.equalsLoaded = resolved.value == states[key]?.currentValue
            }
            return resolved
        }
        return governor.decide(items: compared, creations: creations, states: states)
    }

    // MARK: Items of one chunk see each other

    @Test func secondItemIsUnchangedAfterTheFirstApplied() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, value: "Ann")),
                try resolved(Fixtures.item(id: 2, value: "Ann")),
            ],
            states: [key("given_name"): AspectState(currentValue: "Annie", owner: owner("hr", ledgerID: 5))])
        #expect(decision.outcomes.map(\.status) == [.applied, .skipped])
        #expect(decision.outcomes[1].message?.contains("unchanged") == true)
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "given_name", value: "Ann")])
        #expect(decision.ledger.count == 1)
        // The value now belongs to the draft of item 1, not to ledger row 5: nothing to confirm.
        #expect(decision.confirmations.isEmpty)
    }

    @Test func outOfOrderAgainstATimestampRecordedEarlierInTheChunk() throws {
        let decision = decide([
            try resolved(Fixtures.item(id: 1, value: "Ann", timestamp: t0 + 10)),
            try resolved(Fixtures.item(id: 2, value: "Anne", timestamp: t0)),
        ])
        #expect(decision.outcomes.map(\.status) == [.applied, .skipped])
        let message = try #require(decision.outcomes[1].message)
        #expect(message.contains("skipped: out of order; 'hr' already sent a later source_timestamp"))
        #expect(message.contains((t0 + 10).formatted(.iso8601)))
        #expect(message.hasSuffix("for this field"))
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "given_name", value: "Ann")])
        #expect(decision.ledger.map(\.sourceTimestamp) == [t0 + 10])
    }

    @Test func heldItemsRecordTheirTimestampToo() throws {
        // core.organisation.name is OnCertify: the first item is held.
        let decision = decide([
            try resolved(
                Fixtures.item(id: 1, table: Fixtures.organisation, field: "name", value: "Acme Ltd", timestamp: t0 + 10)
            ),
            try resolved(
                Fixtures.item(id: 2, table: Fixtures.organisation, field: "name", value: "Acme Limited", timestamp: t0)),
        ])
        #expect(decision.outcomes.map(\.status) == [.held, .skipped])
        #expect(decision.outcomes[1].message?.contains("out of order") == true)
        #expect(decision.ledger.count == 1)
    }

    /// An unchanged value produces no ledger entry, but it is still the
    /// source's newest statement: an older one arriving after it is out of
    /// order, whichever order the two are processed in.
    @Test func anUnchangedStatementStillCountsAsTheSourcesNewest() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, value: "Ann", timestamp: t0 + 10)),
                try resolved(Fixtures.item(id: 2, value: "Anne", timestamp: t0)),
            ],
            states: [key("given_name"): AspectState(currentValue: "Ann")])
        #expect(decision.outcomes.map(\.status) == [.skipped, .skipped])
        #expect(decision.outcomes[1].message?.contains("out of order") == true)
        #expect(decision.marks == [
            OrderMark(aspect: key("given_name"), source: "hr",
                      marks: SourceOrderMarks(latestTimestamp: t0 + 10, latestTimestampPosition: SubmissionPosition(submit: 1, seq: 1),
                                              latest: SubmissionPosition(submit: 1, seq: 1)))
        ])
    }

    @Test func laterSubmissionsWinWithoutTimestamps() throws {
        var older = Fixtures.item(id: 1, value: "Old")
        older.position = SubmissionPosition(submit: 1, seq: 9)
        var newer = Fixtures.item(id: 2, value: "New")
        newer.position = SubmissionPosition(submit: 2, seq: 1)
        let marksAfterNewer = SourceOrderMarks(latest: newer.position, latestWithoutTimestamp: newer.position)
        // The newer job's value is already in; the older job's arrives late.
        let late = decide(
            [try resolved(older)],
            states: [key("given_name"): AspectState(currentValue: "New", owner: owner("hr", ledgerID: 3), marks: ["hr": marksAfterNewer])])
        #expect(late.outcomes.map(\.status) == [.skipped])
        #expect(late.outcomes[0].message?.contains("a later submission (submission 2, seq 1)") == true)
        #expect(late.writes.isEmpty)
        #expect(late.marks.isEmpty)
    }

    @Test func itemWithoutTimestampKeepsTheLatest() throws {
        let decision = decide([
            try resolved(Fixtures.item(id: 1, value: "A", timestamp: t0 + 10)),
            try resolved(Fixtures.item(id: 2, value: "B", timestamp: nil)),
            try resolved(Fixtures.item(id: 3, value: "C", timestamp: t0 + 5)),
        ])
        #expect(decision.outcomes.map(\.status) == [.applied, .applied, .skipped])
    }

    @Test func heldValuesAreNotAppliedToTheStateAndDuplicatesFold() throws {
        let organisationKey = key("name", Fixtures.acme, table: Fixtures.organisation)
        let decision = decide(
            [
                try resolved(
                    Fixtures.item(id: 1, table: Fixtures.organisation, field: "name", value: "Acme Ltd"),
                    target: Fixtures.acme),
                try resolved(
                    Fixtures.item(id: 2, table: Fixtures.organisation, field: "name", value: "Acme Ltd"),
                    target: Fixtures.acme),
                try resolved(
                    Fixtures.item(id: 3, table: Fixtures.organisation, field: "name", value: "Acme Limited"),
                    target: Fixtures.acme),
            ],
            states: [organisationKey: AspectState(currentValue: "ACME")])
        #expect(decision.outcomes.map(\.status) == [.held, .skipped, .held])
        #expect(decision.outcomes[1].message?.contains("held duplicate; item 1 of this chunk") == true)
        #expect(decision.writes.isEmpty)
        #expect(decision.ledger.map(\.previousValue) == ["ACME", "ACME"])
        #expect(decision.ledger.map(\.isApplied) == [false, false])
        #expect(decision.confirmations.isEmpty)
    }

    @Test func aValueHeldInAnEarlierJobIsRefreshedNotRepeated() throws {
        let organisationKey = key("name", Fixtures.acme, table: Fixtures.organisation)
        let decision = decide(
            [try resolved(Fixtures.item(id: 5, table: Fixtures.organisation, field: "name", value: "Acme Ltd"), target: Fixtures.acme)],
            states: [organisationKey: AspectState(currentValue: "ACME", held: ["hr": [HeldEntry(ledgerID: 41, value: "Acme Ltd")]])])
        #expect(decision.outcomes.map(\.status) == [.skipped])
        #expect(decision.outcomes[0].message?.contains("ledger entry 41 from 'hr' already proposes this value") == true)
        #expect(decision.ledger.isEmpty)
        #expect(decision.confirmations == [41])
    }

    @Test func refreshedOwnerIsFreshForLaterItems() throws {
        let stale = [key("given_name"): AspectState(currentValue: "Ann", owner: owner("hr", ledgerID: 7, stale: true))]
        let payroll = try resolved(Fixtures.item(id: 2, source: "payroll", value: "Anne"))

        let alone = decide([payroll], states: stale)
        #expect(alone.outcomes.map(\.status) == [.applied])

        let afterConfirmation = decide(
            [try resolved(Fixtures.item(id: 1, source: "hr", value: "Ann")), payroll], states: stale)
        #expect(afterConfirmation.outcomes.map(\.status) == [.skipped, .held])
        #expect(afterConfirmation.confirmations == [7])
    }

    @Test func appliedValueMakesItsSourceTheOwner() throws {
        // No owner yet: hr applies and now owns a fresh value that payroll cannot override.
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, source: "hr", value: "Anne")),
                try resolved(Fixtures.item(id: 2, source: "payroll", value: "Annie")),
            ],
            states: [key("given_name"): AspectState(currentValue: "Ann")])
        #expect(decision.outcomes.map(\.status) == [.applied, .held])
        #expect(decision.outcomes[1].message == HoldReason.outranked(owner: "hr").description)
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "given_name", value: "Anne")])
    }

    // MARK: Writes

    @Test func writesCoalesceToTheLastValuePerRecordAndColumn() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, value: "A")),
                try resolved(Fixtures.item(id: 2, value: "Z"), target: bob),
                try resolved(Fixtures.item(id: 3, value: "B")),
                try resolved(Fixtures.item(id: 4, field: "birth_date", value: "1980-02-29")),
                try resolved(Fixtures.item(id: 5, value: "C")),
            ],
            states: [key("given_name"): AspectState(currentValue: "Old", owner: owner("hr", ledgerID: 1))])
        #expect(decision.outcomes.map(\.status) == [.applied, .applied, .applied, .applied, .applied])
        #expect(
            decision.writes == [
                TargetWrite(table: person, targetID: ann, column: "given_name", value: "C"),
                TargetWrite(table: person, targetID: bob, column: "given_name", value: "Z"),
                TargetWrite(table: person, targetID: ann, column: "birth_date", value: "1980-02-29"),
            ])
        // Every item keeps its own ledger row, each with the value it replaced.
        #expect(decision.ledger.map(\.value) == ["A", "Z", "B", "1980-02-29", "C"])
        #expect(decision.ledger.map(\.previousValue) == ["Old", nil, "A", nil, "B"])
    }

    @Test func clearingWritesNull() throws {
        let decision = decide(
            [try resolved(Fixtures.item(field: "birth_date", value: nil))],
            states: [key("birth_date"): AspectState(currentValue: "1980-02-29")])
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "birth_date", value: nil)])
        #expect(decision.ledger.first?.value == nil)
        #expect(decision.ledger.first?.previousValue == "1980-02-29")
    }

    @Test func nullOverNullIsSkipped() throws {
        let decision = decide([try resolved(Fixtures.item(field: "birth_date", value: nil))])
        #expect(decision.outcomes.map(\.status) == [.skipped])
        #expect(decision.writes.isEmpty)
        #expect(decision.ledger.isEmpty)
    }

    // MARK: Ledger drafts

    @Test func ledgerDraftsFollowTheDecision() throws {
        let acme = Fixtures.acme
        let decision = decide(
            [
                // given_name: OnIngest, auto-certified.
                try resolved(Fixtures.item(id: 1, value: "Ann", timestamp: t0)),
                // birth_date: OnIngest without auto_certify.
                try resolved(Fixtures.item(id: 2, field: "birth_date", value: "1980-02-29")),
                // organisation name: OnCertify.
                try resolved(
                    Fixtures.item(id: 3, table: Fixtures.organisation, field: "name", value: "Acme Ltd"), target: acme),
                // unchanged
                try resolved(Fixtures.item(id: 4, field: "marital_status", value: "M")),
            ],
            states: [
                key("given_name"): AspectState(currentValue: "Annie"),
                key("birth_date"): AspectState(currentValue: "1980-03-01"),
                key("name", acme, table: Fixtures.organisation): AspectState(currentValue: "ACME"),
                key("marital_status"): AspectState(currentValue: "married"),
            ])
        #expect(
            decision.ledger == [
                LedgerDraft(
                    itemID: 1, jobID: 1, table: person, targetID: ann, aspect: .field, aspectKey: "given_name", source: "hr",
                    status: .certified, value: "Ann", previousValue: "Annie", isApplied: true, sourceTimestamp: t0),
                LedgerDraft(
                    itemID: 2, jobID: 1, table: person, targetID: ann, aspect: .field, aspectKey: "birth_date", source: "hr",
                    status: .pending, value: "1980-02-29", previousValue: "1980-03-01", isApplied: true,
                    sourceTimestamp: nil),
                LedgerDraft(
                    itemID: 3, jobID: 1, table: Fixtures.organisation, targetID: acme, aspect: .field, aspectKey: "name",
                    source: "hr",
                    status: .pending, value: "Acme Ltd", previousValue: "ACME", isApplied: false, sourceTimestamp: nil),
            ])
        #expect(decision.ledger.map(\.certifiedByPolicy) == [true, false, false])
        #expect(
            decision.outcomes == [
                ItemOutcome(itemID: 1, status: .applied, message: nil, targetID: ann, ledgerIndex: 0),
                ItemOutcome(itemID: 2, status: .applied, message: nil, targetID: ann, ledgerIndex: 1),
                ItemOutcome(
                    itemID: 3, status: .held, message: HoldReason.certificationRequired.description, targetID: acme,
                    ledgerIndex: 2),
                ItemOutcome(
                    itemID: 4, status: .skipped, message: "skipped: unchanged; the target already holds this value",
                    targetID: ann, ledgerIndex: nil),
            ])
        #expect(decision.writes.map(\.column) == ["given_name", "birth_date"])
    }

    @Test func lowConfidenceMappingIsHeld() throws {
        // hr's "D" maps to "divorced" with confidence 0.5; marital_status needs 0.8.
        let decision = decide([try resolved(Fixtures.item(field: "marital_status", value: "D"))])
        #expect(decision.outcomes.map(\.status) == [.held])
        #expect(decision.outcomes.first?.message == HoldReason.lowConfidence(confidence: 0.5, minimum: 0.8).description)
        #expect(decision.ledger.first?.value == "divorced")
        #expect(decision.ledger.first?.isApplied == false)
        #expect(decision.writes.isEmpty)
    }

    @Test func outrankedValueIsHeldNotDiscarded() throws {
        let decision = decide(
            [try resolved(Fixtures.item(source: "payroll", value: "Anne"))],
            states: [key("given_name"): AspectState(currentValue: "Ann", owner: owner("hr", ledgerID: 3))])
        #expect(decision.outcomes.first?.status == .held)
        #expect(decision.outcomes.first?.message == HoldReason.outranked(owner: "hr").description)
        #expect(decision.ledger.first?.value == "Anne")
        #expect(decision.ledger.first?.status == .pending)
        #expect(decision.ledger.first?.source == "payroll")
        #expect(decision.writes.isEmpty)
    }

    @Test func ledgerIndexPointsAtTheItemsDraft() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 11, value: "A")),
                try resolved(Fixtures.item(id: 12, value: "A")),
                try resolved(
                    Fixtures.item(id: 13, table: Fixtures.organisation, field: "name", value: "X"),
                    target: Fixtures.acme),
                try resolved(Fixtures.item(id: 14, operation: "Delete", field: nil, value: nil), target: nil),
                try resolved(Fixtures.item(id: 15, field: "birth_date", value: "2000-01-01"), target: bob),
            ],
            creations: [
                RecordCreation(table: person, targetID: ann, source: "hr", jobID: 1),
                RecordCreation(table: person, targetID: bob, source: "hr", jobID: 1),
            ])
        #expect(decision.outcomes.map(\.itemID) == [11, 12, 13, 14, 15])
        #expect(decision.outcomes.map(\.ledgerIndex) == [2, nil, 3, nil, 4])
        for outcome in decision.outcomes {
            if let index = outcome.ledgerIndex {
                #expect(decision.ledger[index].itemID == outcome.itemID)
            }
        }
        #expect(decision.ledger.count == 5)
    }

    // MARK: Confirmations

    @Test func unchangedValuesOfTheOwnerAreConfirmedOnce() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, value: "Ann")),
                try resolved(Fixtures.item(id: 2, value: "Ann")),
                try resolved(Fixtures.item(id: 3, field: "birth_date", value: "1980-01-01")),
                try resolved(Fixtures.item(id: 4, value: "Bob"), target: bob),
                try resolved(Fixtures.item(id: 5, field: "birth_date", value: "1980-01-01")),
            ],
            states: [
                key("given_name"): AspectState(currentValue: "Ann", owner: owner("hr", ledgerID: 42)),
                key("birth_date"): AspectState(currentValue: "1980-01-01", owner: owner("hr", ledgerID: 43)),
                key("given_name", bob): AspectState(currentValue: "Bob", owner: owner("payroll", ledgerID: 44)),
            ])
        #expect(decision.outcomes.map(\.status) == [.skipped, .skipped, .skipped, .skipped, .skipped])
        #expect(decision.confirmations == [42, 43])
        #expect(decision.ledger.isEmpty)
        #expect(decision.writes.isEmpty)
    }

    // MARK: Record creations

    @Test func recordCreationsProduceRecordLedgerRows() {
        let decision = decide(
            [],
            creations: [
                RecordCreation(table: person, targetID: ann, source: "hr", jobID: 1),
                RecordCreation(table: Fixtures.organisation, targetID: Fixtures.acme, source: "payroll", jobID: 1),
                RecordCreation(table: "core.unpoliced", targetID: bob, source: "hr", jobID: 1),
            ])
        #expect(
            decision.ledger == [
                // core.person's record policy auto-certifies.
                LedgerDraft(
                    itemID: nil, jobID: 1, table: person, targetID: ann, aspect: .record, aspectKey: "record", source: "hr",
                    status: .certified, value: "created", previousValue: nil, isApplied: true, sourceTimestamp: nil),
                // core.organisation's does not.
                LedgerDraft(
                    itemID: nil, jobID: 1, table: Fixtures.organisation, targetID: Fixtures.acme, aspect: .record,
                    aspectKey: "record",
                    source: "payroll", status: .pending, value: "created", previousValue: nil, isApplied: true,
                    sourceTimestamp: nil),
                // Without a record policy: pending.
                LedgerDraft(
                    itemID: nil, jobID: 1, table: "core.unpoliced", targetID: bob, aspect: .record, aspectKey: "record",
                    source: "hr",
                    status: .pending, value: "created", previousValue: nil, isApplied: true, sourceTimestamp: nil),
            ])
        #expect(decision.outcomes.isEmpty)
        #expect(decision.writes.isEmpty)
    }

    @Test func creatingSourceOwnsTheRecordAspect() throws {
        // core.person's record policy lists only hr; payroll ranks after it.
        let delete = try resolved(Fixtures.item(id: 1, source: "payroll", operation: "Delete", field: nil, value: nil))
        let states = [key("record"): AspectState(currentValue: "true")]

        #expect(decide([delete], states: states).outcomes.map(\.status) == [.applied])

        let afterCreation = decide(
            [delete], creations: [RecordCreation(table: person, targetID: ann, source: "hr", jobID: 1)], states: states)
        #expect(afterCreation.outcomes.map(\.status) == [.held])
        #expect(afterCreation.outcomes.first?.message == HoldReason.outranked(owner: "hr").description)
        #expect(afterCreation.outcomes.first?.ledgerIndex == 1)
    }

    // MARK: Delete

    @Test func deleteOfAnUnresolvedRecordIsSkipped() throws {
        let decision = decide([
            try resolved(Fixtures.item(id: 9, key: "E-404", operation: "Delete", field: nil, value: nil), target: nil)
        ])
        let outcome = try #require(decision.outcomes.first)
        #expect(outcome.itemID == 9)
        #expect(outcome.status == .skipped)
        #expect(outcome.targetID == nil)
        #expect(outcome.ledgerIndex == nil)
        #expect(
            outcome.message == "skipped: no core.person record for external key 'E-404' from 'hr'; nothing to delete")
        #expect(decision.ledger.isEmpty)
        #expect(decision.writes.isEmpty)
    }

    @Test func deleteClearsTheActiveColumn() throws {
        let decision = decide(
            [try resolved(Fixtures.item(id: 3, operation: "Delete", field: nil, value: nil, timestamp: t0))],
            states: [key("record"): AspectState(currentValue: "true", owner: owner("hr", ledgerID: 1))])
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "is_active", value: "false")])
        #expect(
            decision.ledger == [
                LedgerDraft(
                    itemID: 3, jobID: 1, table: person, targetID: ann, aspect: .record, aspectKey: "record", source: "hr",
                    status: .certified, value: "deleted", previousValue: nil, isApplied: true, sourceTimestamp: t0)
            ])
        #expect(decision.outcomes.map(\.status) == [.applied])
    }

    @Test func deleteOfAnInactiveRecordIsUnchanged() throws {
        let decision = decide(
            [try resolved(Fixtures.item(operation: "Delete", field: nil, value: nil))],
            states: [key("record"): AspectState(currentValue: "false")])
        #expect(decision.outcomes.map(\.status) == [.skipped])
        #expect(decision.outcomes.first?.message?.contains("unchanged") == true)
        #expect(decision.writes.isEmpty)
        #expect(decision.ledger.isEmpty)
    }

    @Test func secondDeleteInAChunkIsUnchanged() throws {
        let decision = decide(
            [
                try resolved(Fixtures.item(id: 1, operation: "Delete", field: nil, value: nil)),
                try resolved(Fixtures.item(id: 2, operation: "Delete", field: nil, value: nil)),
            ],
            states: [key("record"): AspectState(currentValue: "true")])
        #expect(decision.outcomes.map(\.status) == [.applied, .skipped])
        #expect(decision.writes.count == 1)
    }

    /// A Delete and a Set of the active column change the same column of the
    /// same record: the Set must see the Delete (the target then holds `false`,
    /// so `true` is a change), and the two must coalesce into one write.
    // MARK: Link

    @Test func linkWritesTheRelatedIDInLowerCase() throws {
        let decision = decide(
            [
                try resolved(
                    Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"), related: Fixtures.acme)
            ])
        let lowered = "abcdef01-2345-6789-abcd-ef0123456789"
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "employer_id", value: lowered)])
        #expect(
            decision.ledger == [
                LedgerDraft(
                    itemID: 1, jobID: 1, table: person, targetID: ann, aspect: .relationship, aspectKey: "employer_id",
                    source: "hr",
                    status: .certified, value: lowered, previousValue: nil, isApplied: true, sourceTimestamp: nil)
            ])
    }

    @Test func linkToTheCurrentRecordIsUnchanged() throws {
        // PostgreSQL renders uuid::text in lower case.
        let decision = decide(
            [
                try resolved(
                    Fixtures.item(operation: "Link", field: "employer_id", value: "ORG-1"), related: Fixtures.acme)
            ],
            states: [key("employer_id"): AspectState(currentValue: "abcdef01-2345-6789-abcd-ef0123456789")])
        #expect(decision.outcomes.map(\.status) == [.skipped])
        #expect(decision.writes.isEmpty)
    }

    @Test func linkWithoutKeyClearsTheRelationship() throws {
        let decision = decide(
            [try resolved(Fixtures.item(operation: "Link", field: "employer_id", value: nil))],
            states: [key("employer_id"): AspectState(currentValue: "abcdef01-2345-6789-abcd-ef0123456789")])
        #expect(decision.writes == [TargetWrite(table: person, targetID: ann, column: "employer_id", value: nil)])
        #expect(decision.ledger.first?.previousValue == "abcdef01-2345-6789-abcd-ef0123456789")
        #expect(decision.ledger.first?.value == nil)
    }
}
