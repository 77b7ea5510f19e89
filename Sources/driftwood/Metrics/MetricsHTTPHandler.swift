import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to the metrics server: each request is answered by `MetricsEndpoints`
/// once it has been read to its end; keep-alive is honoured (Prometheus reuses its connection).
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let endpoints: MetricsEndpoints
    let connection: ConnectionGuard.Connection?
    private var request: HTTPRequestHead?

    init(endpoints: MetricsEndpoints, connection: ConnectionGuard.Connection? = nil) {
        self.endpoints = endpoints
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
            connection?.requestReceived()
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let answer = endpoints.answer(method: head.method.rawValue, uri: head.uri)
        let keepAlive = head.isKeepAlive
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: "\(answer.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        if answer.status == 405 { headers.add(name: "Allow", value: "GET, HEAD") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: answer.status)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        let connection = self.connection
        written.assumeIsolated().whenComplete { _ in
            if keepAlive { connection?.answered() } else { context.close(promise: nil) }
        }
    }
}
