import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves `/metrics` (Prometheus text format) and `/healthz` on the metrics
/// port. A deliberately small HTTP/1.1 server on SwiftNIO, which the
/// PostgreSQL driver already brings in.
public struct MetricsServer: Service {
    public var host: String
    public var port: Int
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("serving /metrics and /healthz", metadata: ["address": "\(host):\(port)"])
        try? await gracefulShutdown()
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let registry: PrometheusCollectorRegistry

        init(registry: PrometheusCollectorRegistry) { self.registry = registry }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let request) = unwrapInboundIn(data) else { return }
            let path = request.uri.split(separator: "?").first.map(String.init) ?? request.uri
            let (status, body, type): (HTTPResponseStatus, String, String) =
                switch path {
                case "/metrics": (.ok, registry.emitToString(), "text/plain; version=0.0.4")
                case "/healthz": (.ok, "ok\n", "text/plain")
                default: (.notFound, "not found\n", "text/plain")
                }
            var head = HTTPResponseHead(version: request.version, status: status)
            head.headers.add(name: "Content-Type", value: type)
            head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            head.headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
