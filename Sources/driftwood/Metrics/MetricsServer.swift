import DriftwoodCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server behind `metrics.address`: `/metrics`, `/health`, `/api/v1/status` and the
/// status page `/`, on one event-loop thread of its own, so the pipeline's threads never wait on
/// a scrape. Its connections are capped and timed out (`ConnectionGuard`).
///
/// `bind` runs before the pipeline is built, so a port in use or a host that does not resolve
/// stops driftwood before anything is read or sent. As a lifecycle service it runs until the
/// graceful shutdown reaches it, after the pipeline has drained.
final class MetricsServer: Service, Sendable {
    /// Why the server could not listen.
    struct BindError: Error, CustomStringConvertible {
        let address: String
        let reason: String
        var description: String { "cannot serve /metrics and /health on \(address): \(reason)" }
    }

    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, logger: Logger) {
        self.channel = channel
        self.group = group
        self.logger = logger
    }

    /// Listens on `address` (`HOST:PORT`) and logs the address it got (the real port for `:0`).
    /// `*` or an empty host listens on every IPv4 interface (`0.0.0.0`). Once a second the
    /// status takes a reading (`MetricsEndpoints.tick`) on the server's thread.
    static func bind(
        _ address: String, endpoints: MetricsEndpoints, logger: Logger,
        limits: ConnectionGuard.Limits = .fromDescriptorLimit()
    ) async throws(BindError) -> MetricsServer {
        guard let hostPort = HostPort(address) else {
            throw BindError(address: address, reason: "expected HOST:PORT, like 127.0.0.1:9600")
        }
        // One thread: every connection and the guard's bookkeeping live on it.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let guarded = ConnectionGuard(limits: limits)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = guarded.accepted(channel)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ConnectionActivityHandler(connection: connection))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(MetricsHTTPHandler(endpoints: endpoints, connection: connection))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: hostPort.host, port: hostPort.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw BindError(address: address, reason: describe(error))
        }
        let server = MetricsServer(channel: channel, group: group, logger: logger)
        channel.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in endpoints.tick() }
        logger.info(
            "serving /metrics and /health, the status page / and /api/v1/status",
            metadata: [
                "address": "\(channel.localAddress.map(describe) ?? address)",
                "max_connections": "\(limits.maxConnections)",
            ])
        return server
    }

    /// The status page's address to open in a browser (`0.0.0.0` shown as `127.0.0.1`).
    var pageURL: String {
        guard let address = channel.localAddress else { return "?" }
        var host = address.ipAddress ?? "127.0.0.1"
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        let port = address.port.map(String.init) ?? "?"
        return host.contains(":") ? "http://[\(host)]:\(port)/" : "http://\(host):\(port)/"
    }

    /// Serves until the graceful shutdown (or cancellation) reaches this service.
    func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Stops listening and ends the event loop.
    func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// `HOST:PORT`, brackets around an IPv6 host.
    private static func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port.map(String.init) ?? "?"
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// "address already in use", "cannot resolve host 'x'": what a user can act on.
    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return String(cString: strerror(io.errnoCode)).lowercased()
        }
        if let resolve = error as? SocketAddressError, case .unknown(let host, _) = resolve {
            return "cannot resolve host '\(host)'"
        }
        return "\(error)"
    }
}
