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

    /// Whether every output has answered once.
    final class Watch: Sendable {
        private let reachable = Atomic<Bool>(false)
        func markReachable() { reachable.store(true, ordering: .relaxed) }
        /// True once every `elasticsearch` output answered (at once for a pipeline without one).
        var allReachable: Bool { reachable.load(ordering: .relaxed) }
    }

    /// Starts the check in the background (the pipeline starts meanwhile, its outputs retrying
    /// as always): one error line per output and attempt until every output answered.
    static func start(_ config: PipelineConfig, logger: Logger) -> (watch: Watch, task: Task<Void, Never>?) {
        let watch = Watch()
        let outputs = elasticsearchOutputs(config)
        guard !outputs.isEmpty else {
            watch.markReachable()
            return (watch, nil)
        }
        let task = Task.detached {
            var delay = 1.0
            var pending = outputs
            while !Task.isCancelled {
                var failing: [(id: String, config: ElasticsearchConfig)] = []
                for output in pending {
                    guard let outcomes = await probe(output.config, stop: nil), !Task.isCancelled else { return }
                    if let ok = outcomes.first(where: \.ok) {
                        logger.info(
                            "elasticsearch reachable",
                            metadata: ["output": "\(output.id)", "server": "\(ok.server ?? "")", "url": "\(ok.url)"])
                    } else {
                        failing.append(output)
                        let why = outcomes.map(\.description).joined(separator: "; ")
                        logger.error(
                            "elasticsearch output \(output.id) cannot be reached: \(why); checking again in \(Int(delay))s")
                    }
                }
                if failing.isEmpty {
                    watch.markReachable()
                    return
                }
                pending = failing
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 30)
            }
        }
        return (watch, task)
    }
}
