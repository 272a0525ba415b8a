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
/// - ``cut()`` closes every connection at once.
package final class TCPProxy: Sendable {
    private let server: any Channel
    private let registry = Registry()
    package let port: Int

    package init(to targetHost: String, port targetPort: Int) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let registry = self.registry
        server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                inbound.pipeline.addHandler(Inbound(target: (targetHost, targetPort), registry: registry))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress?.port ?? 0
    }

    /// Bytes stop moving; nothing is closed.
    package func partition() async throws {
        let channels = registry.setPartitioned(true)
        try await registry.pause(channels + [server]).get()
    }

    /// Bytes move again.
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

    package func close() async {
        await cut()
        try? await server.close().get()
    }

    /// The connections, shared with the event loop's callbacks.
    private final class Registry: Sendable {
        private let state = Mutex((channels: [ObjectIdentifier: any Channel](), partitioned: false))

        package var channels: [any Channel] { state.withLock { Array($0.channels.values) } }

        /// Sets the mode; returns the connections it applies to.
        package func setPartitioned(_ partitioned: Bool) -> [any Channel] {
            state.withLock { state in
                state.partitioned = partitioned
                return Array(state.channels.values)
            }
        }

        package func add(_ channel: any Channel) { state.withLock { $0.channels[ObjectIdentifier(channel)] = channel } }
        package func remove(_ channel: any Channel) { _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }
        package var isPartitioned: Bool { state.withLock { $0.partitioned } }

        package func pause(_ channels: [any Channel]) -> EventLoopFuture<Void> {
            let loop = MultiThreadedEventLoopGroup.singleton.next()
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
        // Touched on the inbound channel's event loop only.
        private var outbound: (any Channel)?
        private var pending: [ByteBuffer] = []

        package init(target: (String, Int), registry: Registry) {
            self.target = target
            self.registry = registry
        }

        package func channelActive(context: ChannelHandlerContext) {
            let inbound = context.channel
            registry.add(inbound)
            inbound.closeFuture.whenComplete { [registry] _ in registry.remove(inbound) }
            ClientBootstrap(group: inbound.eventLoop)
                .channelInitializer { outbound in outbound.pipeline.addHandler(Forward(to: inbound)) }
                .connect(host: target.host, port: target.port)
                .whenComplete { [self, registry] result in
                    switch result {
                    case .success(let outbound):
                        registry.add(outbound)
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
