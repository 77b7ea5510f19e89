import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps the metrics server's connections few and short-lived, so idle or slow clients cannot
/// take the descriptors the inputs, outputs and checkpoints need, nor the server itself:
///
/// - at most `maxConnections` open at once; a new connection past that closes the one idle the
///   longest (a client waiting to send, before one sending slowly, before one being answered),
///   so a probe of `/health` still gets through a crowd of idle sockets;
/// - a connection that sends nothing for `idleTimeout` after connecting or after its last
///   answer is closed;
/// - a request whose head has not arrived `headerTimeout` after its first byte is closed
///   (a client trickling a header byte by byte).
///
/// Used only on the server's one event-loop thread (every connection lives on it).
final class ConnectionGuard: @unchecked Sendable {
    struct Limits {
        var maxConnections: Int
        var idleTimeout: TimeAmount = .seconds(30)
        var headerTimeout: TimeAmount = .seconds(10)

        /// A fortieth of the process's descriptor limit (the file inputs take nine tenths at
        /// most), between 4 and 64.
        static func fromDescriptorLimit() -> Limits {
            var limit = rlimit()
            let available = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(min(limit.rlim_max, 1 << 20)) : 1024
            return Limits(maxConnections: max(4, min(64, available / 40)))
        }
    }

    /// One connection's state.
    final class Connection {
        enum Phase: Int, Comparable {
            /// Waiting for a request: evicted first.
            case waiting = 0
            /// A request is arriving.
            case receiving = 1
            /// Its answer is being written.
            case answering = 2
            static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
        }
        let channel: any Channel
        var phase = Phase.waiting
        var lastActive = NIODeadline.now()
        var deadline: Scheduled<Void>?
        unowned let owner: ConnectionGuard

        init(channel: any Channel, owner: ConnectionGuard) {
            self.channel = channel
            self.owner = owner
        }

        /// Bytes arrived; the first of a request starts its header time.
        func bytesArrived() {
            lastActive = .now()
            guard phase == .waiting else { return }
            phase = .receiving
            arm(owner.limits.headerTimeout)
        }

        /// The request head is complete: it is being answered.
        func requestReceived() {
            phase = .answering
            deadline?.cancel()
            deadline = nil
        }

        /// The answer is written: wait for the next request.
        func answered() {
            lastActive = .now()
            phase = .waiting
            arm(owner.limits.idleTimeout)
        }

        func arm(_ timeout: TimeAmount) {
            deadline?.cancel()
            deadline = channel.eventLoop.scheduleTask(in: timeout) { [channel] in
                channel.close(promise: nil)
            }
        }
    }

    let limits: Limits
    private var open: [ObjectIdentifier: Connection] = [:]
    /// Connections closed to make room for newer ones (for the log and the tests).
    private(set) var evicted = 0

    init(limits: Limits) {
        self.limits = limits
    }

    /// A new connection: room is made for it, its idle time starts.
    func accepted(_ channel: any Channel) -> Connection {
        channel.eventLoop.preconditionInEventLoop()
        if open.count >= limits.maxConnections,
            let oldest = open.values.min(by: { ($0.phase, $0.lastActive) < ($1.phase, $1.lastActive) })
        {
            open[ObjectIdentifier(oldest.channel)] = nil
            oldest.deadline?.cancel()
            oldest.channel.close(promise: nil)
            evicted += 1
        }
        let connection = Connection(channel: channel, owner: self)
        open[ObjectIdentifier(channel)] = connection
        connection.arm(limits.idleTimeout)
        channel.closeFuture.whenComplete { [self] _ in
            connection.deadline?.cancel()
            if open[ObjectIdentifier(channel)] === connection { open[ObjectIdentifier(channel)] = nil }
        }
        return connection
    }
}

/// First in a connection's pipeline: tells its `ConnectionGuard.Connection` when bytes arrive.
final class ConnectionActivityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let connection: ConnectionGuard.Connection

    init(connection: ConnectionGuard.Connection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.bytesArrived()
        context.fireChannelRead(data)
    }
}
