import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import SyncLedgerPostgres

/// Serves, on the metrics port:
///
/// - `GET /metrics`: Prometheus text format. `beforeScrape` runs first (the
///   database gauges are read then, see ``DatabaseGauges``).
/// - `GET /healthz`: `200 alive` while the process serves HTTP at all (for
///   liveness: restart it when this stops answering).
/// - `GET /readyz`: `200 ready`, or `503` with one reason per line, from the
///   `readiness` provider (for load balancers and dashboards: do not restart
///   on 503; the worker waits for its database and recovers by itself).
///
/// A deliberately small HTTP/1.1 server on SwiftNIO (which the PostgreSQL
/// driver already brings in), in structured concurrency: one child task per
/// connection, each bounded in time; one request per connection.
public struct MetricsServer: Service {
    public var host: String
    public var port: Int
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    public var readiness: Readiness.Provider?
    public var beforeScrape: (@Sendable () async -> Void)?
    /// Called with the bound port once listening (useful with port 0).
    public var onListening: (@Sendable (Int) -> Void)?

    /// How long one connection may take, request and answer included.
    static let connectionTimeout: Duration = .seconds(15)

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger, readiness: Readiness.Provider? = nil,
        beforeScrape: (@Sendable () async -> Void)? = nil, onListening: (@Sendable (Int) -> Void)? = nil
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.readiness = readiness
        self.beforeScrape = beforeScrape
        self.onListening = onListening
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        logger.info("serving /metrics, /healthz and /readyz", metadata: ["address": "\(host):\(boundPort)"])
        onListening?(boundPort)
        let responder = Responder(registry: registry, readiness: readiness, beforeScrape: beforeScrape)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections.cancelOnGracefulShutdown() {
                    group.addTask {
                        try? await withTimeLimit(Self.connectionTimeout, onTimeout: {}) {
                            try await responder.serve(connection)
                        }
                    }
                }
            }
        }
    }

    /// Answers one request per connection.
    struct Responder: Sendable {
        let registry: PrometheusCollectorRegistry
        let readiness: Readiness.Provider?
        let beforeScrape: (@Sendable () async -> Void)?

        func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
            try await connection.executeThenClose { inbound, outbound in
                var request: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let head): request = head
                    case .body: continue
                    case .end: break
                    }
                    guard case .end = part, let head = request else { continue }
                    let (status, body, type) = await respond(to: head)
                    var response = HTTPResponseHead(version: head.version, status: status)
                    response.headers.add(name: "Content-Type", value: type)
                    response.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                    response.headers.add(name: "Connection", value: "close")
                    response.headers.add(name: "Cache-Control", value: "no-store")
                    try await outbound.write(.head(response))
                    if head.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }

        func respond(to head: HTTPRequestHead) async -> (HTTPResponseStatus, String, String) {
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            guard head.method == .GET || head.method == .HEAD else { return (.methodNotAllowed, "GET only\n", "text/plain") }
            switch path {
            case "/metrics":
                await beforeScrape?()
                return (.ok, registry.emitToString(), "text/plain; version=0.0.4; charset=utf-8")
            case "/healthz":
                return (.ok, "alive\n", "text/plain")
            case "/readyz":
                let answer = await readiness?() ?? .ready
                if answer.ready { return (.ok, "ready\n", "text/plain") }
                let reasons = answer.reasons.isEmpty ? ["not ready"] : answer.reasons
                return (.serviceUnavailable, "not ready\n" + reasons.map { "- \($0)\n" }.joined(), "text/plain")
            default:
                return (.notFound, "not found; try /metrics, /healthz or /readyz\n", "text/plain")
            }
        }
    }
}
