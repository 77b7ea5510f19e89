import DriftwoodCore
import DriftwoodStages
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Reloads the running pipeline when asked (SIGHUP) or, with `run --watch`, when the pipeline
/// file or a file it names changes (checked once a second). The new file is read and checked in
/// full first; when it has errors they are logged as `check` prints them and nothing changes.
/// Reloads run one at a time on a thread of their own; requests made meanwhile become one more.
final class Reloader: @unchecked Sendable {
    let path: String
    let engine: Pipeline
    let logger: Logger
    let read: PipelineBuilder.ReadOptions
    /// Applied to every new file as to the first (`--data-dir`, `--metrics-address`).
    let overrides: @Sendable (inout PipelineConfig) -> Void
    /// Told of the stages after each reload that changed them (the status page).
    let restaged: @Sendable (PipelineConfig) -> Void
    private let lock = NSLock()
    private var config: PipelineConfig
    private var requested = false
    private var running = false
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)

    init(
        path: String, config: PipelineConfig, engine: Pipeline, read: PipelineBuilder.ReadOptions, logger: Logger,
        overrides: @escaping @Sendable (inout PipelineConfig) -> Void,
        restaged: @escaping @Sendable (PipelineConfig) -> Void
    ) {
        self.path = path
        self.config = config
        self.engine = engine
        self.read = read
        self.logger = logger
        self.overrides = overrides
        self.restaged = restaged
        let thread = Thread { [self] in loop() }
        thread.name = "reload"
        thread.start()
    }

    /// Asks for a reload (returns at once).
    func request(_ reason: String) {
        let wakeUp = lock.withLock { () -> Bool in
            guard !stopped else { return false }
            logger.info("reload requested", metadata: ["reason": "\(reason)"])
            requested = true
            return !running
        }
        if wakeUp { wake.signal() }
    }

    /// No more reloads (the run is stopping); one in progress finishes.
    func stop() {
        lock.withLock { stopped = true }
        wake.signal()
    }

    /// The files whose change `--watch` reloads for: the pipeline file and the files it names.
    var watchedFiles: [String] { [path] + lock.withLock { config.filesRead } }

    private func loop() {
        while true {
            wake.wait()
            let next = lock.withLock { () -> Bool? in
                if stopped { return nil }
                guard requested else { return false }
                requested = false
                running = true
                return true
            }
            guard let next else { return }
            guard next else { continue }
            reload()
            let again = lock.withLock { () -> Bool in
                running = false
                return requested && !stopped
            }
            if again { wake.signal() }
        }
    }

    private func reload() {
        let old = lock.withLock { config }
        var new: PipelineConfig
        do {
            new = try PipelineFile.read(path)
        } catch {
            for line in error.lines { logger.error("\(line)") }
            let why = error.lines.last ?? "invalid pipeline file"
            logger.error("reload failed: the pipeline file has errors; the running pipeline goes on unchanged", metadata: ["file": "\(path)"])
            ReloadLog.shared.record(ok: false, message: why)
            return
        }
        overrides(&new)
        for setting in PipelineChange(from: old, to: new).needsRestart {
            logger.warning("reload: \(setting): a change of this setting takes effect at the next start")
        }
        switch PipelineReload.apply(new, over: old, to: engine, read: read, logger: logger, hostName: PipelineFile.hostName) {
        case .unchanged:
            logger.info("reload: nothing changed", metadata: ["file": "\(path)"])
            ReloadLog.shared.record(ok: true, message: "nothing changed", stalledMilliseconds: 0)
            keep(new, over: old)
        case .swapped(let change, let stalled):
            let ms = Double(stalled.components.seconds) * 1000 + Double(stalled.components.attoseconds) / 1e15
            logger.notice(
                "reloaded: \(change.summary)",
                metadata: ["file": "\(path)", "inputs_held_ms": "\(String(format: "%.1f", ms))"])
            for id in change.filters.changed {
                logger.notice("reload: filter \(id) changed; it starts with empty state", metadata: ["stage": "\(id)"])
            }
            ReloadLog.shared.record(ok: true, message: change.summary, stalledMilliseconds: ms)
            keep(new, over: old)
            returnFreedMemory()
        case .failed(let why):
            logger.error("reload failed: \(why); the running pipeline goes on unchanged", metadata: ["file": "\(path)"])
            ReloadLog.shared.record(ok: false, message: why)
        }
    }

    /// Stages that left free their buffers; glibc keeps freed memory in its arenas, where many
    /// reloads add up to megabytes no one uses (13 MiB over the first thousand reloads that
    /// each add or remove an output, measured with `bench/reload.sh`). Hand it back.
    private func returnFreedMemory() {
        // Looked up rather than imported: Glibc's module does not export malloc.h.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        typealias Trim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// The new file is what runs now (with the settings that need a restart as they were).
    private func keep(_ new: PipelineConfig, over old: PipelineConfig) {
        let running = PipelineReload.runnable(new, over: old)
        lock.withLock { config = running }
        restaged(running)
    }
}

/// `run --watch`: looks at the pipeline file and the files it names once a second, and asks for
/// a reload when one of them changed (its modification time, size, or identity: an editor that
/// writes a new file and renames it over the old one).
final class ConfigWatcher: @unchecked Sendable {
    struct Look: Equatable {
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var size: Int64 = -1
        var seconds: Int = 0
        var nanoseconds: Int = 0
    }

    private let stopped = NSLock()
    private var isStopped = false

    init(reloader: Reloader, interval: Double = 1) {
        // The first look now, before the pipeline starts, not when the thread first runs: on a
        // loaded machine that can be seconds later, and a change made meanwhile would be missed.
        let first = Self.look(reloader.watchedFiles)
        let thread = Thread { [self] in
            var last = first
            while !stopped.withLock({ isStopped }) {
                Thread.sleep(forTimeInterval: interval)
                let files = reloader.watchedFiles
                let now = Self.look(files)
                // A file a reload began to name (or stopped naming) is watched from now on.
                let same = Set(now.keys) == Set(last.keys)
                if !same && now.allSatisfy({ last[$0.key] == nil || last[$0.key] == $0.value }) {
                    last = now
                    continue
                }
                if now != last {
                    let changed = files.filter { now[$0] != last[$0] }
                    reloader.request("changed: " + changed.joined(separator: ", "))
                    // A reload reads the files after this look: a change made while it runs is seen next time.
                    last = now
                }
            }
        }
        thread.name = "watch"
        thread.start()
    }

    func stop() { stopped.withLock { isStopped = true } }

    static func look(_ files: [String]) -> [String: Look] {
        var out: [String: Look] = [:]
        for file in files {
            var st = stat()
            guard stat(file, &st) == 0 else {
                out[file] = Look()
                continue
            }
            out[file] = Look(
                device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                seconds: Int(st.st_mtim.tv_sec), nanoseconds: Int(st.st_mtim.tv_nsec))
        }
        return out
    }
}
