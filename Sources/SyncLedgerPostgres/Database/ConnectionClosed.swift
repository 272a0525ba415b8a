/// The connection closed under us: the server restarted or the network
/// dropped it. Whatever was in flight was rolled back by the server.
public struct ConnectionClosed: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the database connection was closed (server restart or network failure)" }
}
