import ArgumentParser

/// `syncledger GROUP help [SUBCOMMAND]`: the same as `syncledger help GROUP
/// [SUBCOMMAND]` and `syncledger GROUP [SUBCOMMAND] --help`, for every
/// command group.
struct GroupHelp<Group: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "help", abstract: "Show help for this command group or one of its subcommands.")
    }

    @Argument(help: "A subcommand of this group.")
    var subcommands: [String] = []

    func run() throws {
        var command: ParsableCommand.Type = Group.self
        for name in subcommands {
            let children = command.configuration.subcommands
            var found: ParsableCommand.Type?
            for child in children where child._commandName == name { found = child }
            guard let next = found else {
                let names = children.map { child in child._commandName }
                throw ValidationError("unknown subcommand '\(name)'; one of: \(names.joined(separator: ", "))")
            }
            command = next
        }
        print(SyncLedgerCommand.helpMessage(for: command))
    }
}
