import DriftwoodCore
import Synchronization

/// The latest window histograms beside the baseline's that one `drift` filter put in a score
/// report for one `group_by` value (the features it lists under `distributions`), for the status
/// page (not exported: `driftwood_feature_distribution` carries the window's shares for
/// Prometheus). The filter hands over the histograms its report already holds, once per report,
/// so nothing is computed twice; the status reads them from another thread.
public final class ModelDistributions: Sendable {
    public let stage: String
    public let group: String
    private let latest = Mutex<[DriftReport.Histogram]>([])

    init(stage: String, group: String) {
        self.stage = stage
        self.group = group
    }

    /// The histograms of the group's newest report.
    public func record(_ histograms: [DriftReport.Histogram]) {
        latest.withLock { $0 = histograms }
    }

    public var histograms: [DriftReport.Histogram] { latest.withLock { $0 } }

    private static let all = Mutex<[String: ModelDistributions]>([:])

    /// The histograms of `group` in filter `stage`, the same object for the same pair.
    public static func of(stage: String, group: String) -> ModelDistributions {
        all.withLock { all in
            let key = stage + "\u{1F}" + group
            if let cell = all[key] { return cell }
            let cell = ModelDistributions(stage: stage, group: group)
            all[key] = cell
            return cell
        }
    }

    /// Per group, each listed feature's newest histogram (of the filter first by id when two
    /// `drift` filters list the same feature for one group).
    public static func byGroup() -> [String: [String: DriftReport.Histogram]] {
        let cells = all.withLock { Array($0.values) }.sorted { $0.stage > $1.stage }
        var out: [String: [String: DriftReport.Histogram]] = [:]
        for cell in cells {
            for h in cell.histograms { out[cell.group, default: [:]][h.feature] = h }
        }
        return out
    }
}
