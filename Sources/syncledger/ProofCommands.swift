import ArgumentParser
import Foundation
import SyncLedgerPostgres
import SyncLedgerCore

/// Reading and writing checkpoint files (the JSON `syncledger checkpoint` prints).
enum CheckpointFile {
    static func read(_ path: String) throws -> Checkpoint {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot read the checkpoint file \(path): \(error.localizedDescription)")
        }
        do {
            return try ProofJSON.decode(Checkpoint.self, from: data)
        } catch {
            throw ValidationError("\(path) is not a checkpoint (JSON with tree_size, root and time, as `syncledger checkpoint` prints): \(error)")
        }
    }

    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try ProofJSON.encode(value), as: UTF8.self)
    }
}

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Append the ledger's sealed links to the Merkle log and print the new checkpoint (JSON) to keep outside.",
        discussion: """
            Prints {"origin": ..., "root": "<hex>", "time": ..., "tree_size": N}. Keep every checkpoint somewhere the \
            database's superusers cannot write (another system, a WORM bucket, a signed e-mail); later, \
            `syncledger verify --checkpoint FILE` proves that the ledger extends it, and `syncledger prove` makes \
            inclusion proofs against it. Writers never wait for a checkpoint. Workers take them on a schedule with \
            --checkpoint-every.

            Examples:
              syncledger checkpoint
              syncledger checkpoint --out /secure/checkpoints/$(date +%F).json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Also write the checkpoint to this file.", valueName: "file"))
    var out: String?

    func validate() throws { _ = try connection.requiredURL() }

    func run() async throws {
        let out = out
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger checkpoint") { client, logger in
            let checkpoint = try await LedgerProofs(client: client, logger: logger).checkpoint()
            let text = try CheckpointFile.text(checkpoint)
            if let out { try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: out)) }
            Console.print(text)
        }
    }
}

struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion proof (JSON) that a ledger entry is in the log of a checkpoint.",
        discussion: """
            The proof holds the entry's hashed fields, the chain link that sealed it and the Merkle path from that \
            link to the checkpoint's root; `syncledger verify-proof` (or any verifier written from docs/proofs.md) \
            checks it with no database. The checkpoint must have been taken after the entry was written.

            Example:
              syncledger prove 42 --checkpoint /secure/checkpoints/2026-12-01.json > entry-42.json
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The ledger entry (ledger_id).")
    var ledgerID: Int64

    @Option(help: ArgumentHelp("The checkpoint to prove against.", valueName: "file"))
    var checkpoint: String

    func validate() throws { _ = try connection.requiredURL() }

    func run() async throws {
        let (id, trusted) = (ledgerID, try CheckpointFile.read(checkpoint))
        try await StewardCommand.withCommandClient(connection, applicationName: "syncledger prove") { client, logger in
            let proof = try await LedgerProofs(client: client, logger: logger).prove(id, in: trusted)
            Console.print(try CheckpointFile.text(proof))
        }
    }
}

struct VerifyProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check an inclusion proof against a checkpoint, with no database.",
        discussion: """
            Recomputes the entry's row hash from its fields, its chain link, the link's leaf and the Merkle path to the \
            root, and compares the root with the checkpoint file's. Exit 0 when the proof holds, 1 (naming what does \
            not hold) otherwise.

            Example:
              syncledger verify-proof entry-42.json --checkpoint /secure/checkpoints/2026-12-01.json
            """)

    @Argument(help: "The proof file (from `syncledger prove`).")
    var proof: String

    @Option(help: ArgumentHelp("The checkpoint you trust.", valueName: "file"))
    var checkpoint: String

    func run() throws {
        let trusted = try CheckpointFile.read(checkpoint)
        let document: ProofDocument
        do {
            document = try ProofJSON.decode(ProofDocument.self, from: try Data(contentsOf: URL(fileURLWithPath: proof)))
        } catch {
            throw ValidationError("\(proof) is not an inclusion proof of `syncledger prove`: \(error)")
        }
        do {
            try document.verify(against: trusted)
        } catch {
            FileHandle.standardError.write(Data("verify-proof: the proof does not hold: \(error)\n".utf8))
            throw ExitCode.failure
        }
        Console.print(
            "the proof holds: ledger entry \(document.entry.ledgerID) is leaf \(document.inclusion.leafIndex) of the log of "
                + "\(trusted.treeSize) leaves with root \(trusted.root.hex)")
    }
}
