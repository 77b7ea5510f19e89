import DriftwoodCore
import DriftwoodStages
import Foundation
import Logging
import Synchronization

/// Before `run` starts: every `elasticsearch` output must have a host that answers
/// (`ElasticsearchProbe`). A failure is one error line (refused, DNS, TLS, 401, version), tried
/// again after 1, 2, 4 … 30 s; SIGINT/SIGTERM meanwhile ends the wait at once.
enum StartupHealthcheck {
    /// Set by the signal watcher; the wait polls it.
    final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }

    /// The `elasticsearch` outputs of a pipeline, with their ids.
    static func elasticsearchOutputs(_ config: PipelineConfig) -> [(id: String, config: ElasticsearchConfig)] {
        config.outputs.compactMap { spec in (spec.config as? ElasticsearchConfig).map { (spec.id, $0) } }
    }

    /// Probes once, on a thread of its own; nil when `stop` was set first.
    static func probe(_ es: ElasticsearchConfig, stop: StopFlag?) async -> [ElasticsearchProbe.Outcome]? {
        let box = Mutex<[ElasticsearchProbe.Outcome]?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let outcomes = ElasticsearchProbe.probe(es)
            box.withLock { $0 = outcomes }
            done.signal()
        }
        while true {
            if done.wait(timeout: .now() + 0.1) == .success { return box.withLock { $0 } }
            if stop?.isSet == true { return nil }
            await Task.yield()
        }
    }

    /// True once every output is reachable; false when a signal came first.
    static func wait(_ config: PipelineConfig, logger: Logger, stop: StopFlag) async -> Bool {
        let outputs = elasticsearchOutputs(config)
        guard !outputs.isEmpty else { return true }
        var delay = 1.0
        var pending = outputs
        while true {
            var failing: [(id: String, config: ElasticsearchConfig)] = []
            for output in pending {
                guard let outcomes = await probe(output.config, stop: stop) else { return false }
                if let ok = outcomes.first(where: \.ok) {
                    logger.info(
                        "elasticsearch reachable", metadata: ["output": "\(output.id)", "server": "\(ok.server ?? "")", "url": "\(ok.url)"])
                } else {
                    failing.append(output)
                    let why = outcomes.map(\.description).joined(separator: "; ")
                    logger.error(
                        "elasticsearch output \(output.id) cannot be reached: \(why); checking again in \(Int(delay))s (Ctrl-C stops)")
                }
            }
            if failing.isEmpty { return true }
            pending = failing
            let until = Date().addingTimeInterval(delay)
            while Date() < until {
                if stop.isSet { return false }
                try? await Task.sleep(for: .milliseconds(100))
            }
            delay = min(delay * 2, 30)
        }
    }
}
