import NIOCore
import NIOPosix
import Synchronization
import SyncLedgerPostgres

/// A TCP proxy in front of PostgreSQL that a test controls, to make network
/// faults happen on cue:
///
/// - ``partition()`` stops moving bytes in both directions without closing
///   anything, on every connection and on new ones (which connect, but are
///   not answered): what a dropped link, a half-open connection or a firewall
///   that silently drops packets looks like to both ends. The bytes wait in
///   the kernel's buffers, as TCP's retransmissions would.
/// - ``heal()`` moves them again.
/// - ``freezeExisting()`` stops every connection open now for good, and only
///   those: new connections work. A half-open connection, as a firewall or a
///   NAT that forgot a flow makes it: neither end hears from the other, and
///   neither is told.
/// - ``freezeResponses()`` stops what the server sends on every connection
///   open now (the client's bytes still reach it): a server writing a large
///   result then blocks in its write, as it does on a half-open connection.
/// - ``cut()`` closes every connection at once.
///
/// With `serverReceiveBuffer`, the proxy's side of each connection to the
/// server has that receive buffer: a stopped connection then fills up after a
/// few kilobytes, so a server writing a result blocks in its write soon.
///
/// The proxy moves bytes on an event loop of its own, not on the shared
/// `MultiThreadedEventLoopGroup.singleton`: inside the full parallel suite
/// that group (one thread per core) also runs every other test's
/// PostgreSQL connections (a task submitted to it waited 0.04–1 s, to the
/// proxy's own loop under 30 ms), and a proxy queued behind them forwards
/// each few kilobytes late, so the connections through it crawl (server
/// statements blocked in their writes hit `statement_timeout`, sessions
/// waiting for the client's next statement hit the idle-in-transaction
/// timeout) and the faults under test are no longer the only ones.
package final class TCPProxy: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel
    private let registry: Registry
    package let port: Int

    package init(to targetHost: String, port targetPort: Int, serverReceiveBuffer: Int? = nil) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let registry = Registry(loop: group.next())
        self.group = group
        self.registry = registry
        do {
            server = try await Self.listen(on: group, to: (targetHost, targetPort), registry: registry, serverReceiveBuffer: serverReceiveBuffer)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        port = server.localAddress?.port ?? 0
    }

    /// The listening channel: each connection accepted gets an ``Inbound``.
    private static func listen(
        on group: MultiThreadedEventLoopGroup, to target: (host: String, port: Int), registry: Registry, serverReceiveBuffer: Int?
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.pipeline.addHandler(
                    Inbound(target: target, registry: registry, receiveBuffer: serverReceiveBuffer))
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Closes every connection and the listening socket, then stops the
    /// proxy's event loop.
    package func close() async {
        await cut()
        try? await server.close().get()
        try? await group.shutdownGracefully()
    }

    /// Every connection open now stops moving bytes, for good (until
    /// ``close()``); new connections work as before.
    package func freezeExisting() async throws {
        let channels = registry.freeze(directions: [.toClient, .toServer])
        try await registry.pause(channels).get()
    }

    /// Every connection open now stops passing on what the server sends, for
    /// good; what the client sends still reaches the server. New connections
    /// work as before.
    package func freezeResponses() async throws {
        let channels = registry.freeze(directions: [.toClient])
        try await registry.pause(channels).get()
    }

    /// Bytes stop moving; nothing is closed.
    package func partition() async throws {
        let channels = registry.setPartitioned(true)
        try await registry.pause(channels + [server]).get()
    }

    /// Bytes move again (on connections not frozen for good).
    package func heal() async throws {
        let channels = registry.setPartitioned(false)
        for channel in channels + [server] {
            try? await channel.setOption(.autoRead, value: true).get()
            channel.read()
        }
    }

    /// Closes every connection through the proxy.
    package func cut() async {
        for channel in registry.channels { try? await channel.close().get() }
    }

    /// Which way a channel's reads carry bytes: a client's side reads what
    /// the client sends (to the server), a server's side what it answers.
    package enum Direction: Sendable {
        case toServer, toClient
    }

    /// The connections, shared with the event loop's callbacks.
    private final class Registry: Sendable {
        private struct State {
            var channels: [ObjectIdentifier: (channel: any Channel, direction: Direction)] = [:]
            var frozen: Set<ObjectIdentifier> = []
            var partitioned = false
        }

        private let state = Mutex(State())
        /// The proxy's event loop, where pauses are gathered.
        private let loop: any EventLoop

        init(loop: any EventLoop) { self.loop = loop }

        package var channels: [any Channel] { state.withLock { $0.channels.values.map(\.channel) } }

        /// Sets the mode; returns the connections it applies to (not those frozen for good).
        package func setPartitioned(_ partitioned: Bool) -> [any Channel] {
            state.withLock { state in
                state.partitioned = partitioned
                return state.channels.filter { !state.frozen.contains($0.key) }.map(\.value.channel)
            }
        }

        /// Marks the channels open now that read bytes going `directions` as
        /// frozen for good; returns them.
        package func freeze(directions: Set<Direction>) -> [any Channel] {
            state.withLock { state in
                let chosen = state.channels.filter { directions.contains($0.value.direction) }
                state.frozen.formUnion(chosen.keys)
                return chosen.map(\.value.channel)
            }
        }

        package func add(_ channel: any Channel, direction: Direction) {
            state.withLock { $0.channels[ObjectIdentifier(channel)] = (channel, direction) }
        }
        package func remove(_ channel: any Channel) {
            state.withLock {
                $0.channels.removeValue(forKey: ObjectIdentifier(channel))
                $0.frozen.remove(ObjectIdentifier(channel))
            }
        }
        package var isPartitioned: Bool { state.withLock { $0.partitioned } }

        package func pause(_ channels: [any Channel]) -> EventLoopFuture<Void> {
            let futures = channels.map { $0.setOption(.autoRead, value: false) }
            return EventLoopFuture.andAllComplete(futures, on: loop)
        }
    }

    /// The client's side of one connection: connects to the server when the
    /// client connects, holding what the client sends until then.
    private final class Inbound: ChannelInboundHandler, @unchecked Sendable {
        package typealias InboundIn = ByteBuffer
        package let target: (host: String, port: Int)
        package let registry: Registry
        package let receiveBuffer: Int?
        // Touched on the inbound channel's event loop only.
        private var outbound: (any Channel)?
        private var pending: [ByteBuffer] = []

        package init(target: (String, Int), registry: Registry, receiveBuffer: Int?) {
            self.target = target
            self.registry = registry
            self.receiveBuffer = receiveBuffer
        }

        package func channelActive(context: ChannelHandlerContext) {
            let inbound = context.channel
            registry.add(inbound, direction: .toServer)
            inbound.closeFuture.whenComplete { [registry] _ in registry.remove(inbound) }
            var bootstrap = ClientBootstrap(group: inbound.eventLoop)
                .channelInitializer { outbound in outbound.pipeline.addHandler(Forward(to: inbound)) }
            if let receiveBuffer {
                bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
            }
            bootstrap
                .connect(host: target.host, port: target.port)
                .whenComplete { [self, registry] result in
                    switch result {
                    case .success(let outbound):
                        registry.add(outbound, direction: .toClient)
                        outbound.closeFuture.whenComplete { _ in
                            registry.remove(outbound)
                            inbound.close(promise: nil)
                        }
                        inbound.closeFuture.whenComplete { _ in outbound.close(promise: nil) }
                        self.outbound = outbound
                        for buffer in pending { outbound.write(buffer, promise: nil) }
                        pending = []
                        outbound.flush()
                        if registry.isPartitioned { _ = registry.pause([inbound, outbound]) }
                    case .failure:
                        inbound.close(promise: nil)
                    }
                }
            context.fireChannelActive()
        }

        package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            if let outbound {
                outbound.writeAndFlush(buffer, promise: nil)
            } else {
                pending.append(buffer)
            }
        }
    }

    /// Writes what one side reads to the other.
    private final class Forward: ChannelInboundHandler, Sendable {
        package typealias InboundIn = ByteBuffer
        package let peer: any Channel

        package init(to peer: any Channel) { self.peer = peer }

        package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }
    }
}
