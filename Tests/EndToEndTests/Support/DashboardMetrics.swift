import Foundation

/// The Prometheus metric families a Grafana dashboard's queries name, so a test can hold them
/// against what driftwood exports (the family names in docs/metrics.md, or the `# TYPE` lines of a live
/// `/metrics`).
enum DashboardMetrics {
    /// The dashboard docker-compose.yml provisions into Grafana.
    static var stackDashboard: URL {
        Driftwood.packageRoot.appendingPathComponent("deploy/grafana/dashboards/driftwood.json")
    }

    /// Every `driftwood_*` metric family named in the PromQL of the dashboard JSON at `url`.
    static func names(inDashboardAt url: URL) throws -> Set<String> {
        names(inDashboard: try JSONSerialization.jsonObject(with: Data(contentsOf: url)))
    }

    /// Every `driftwood_*` metric family named in a parsed dashboard: in each panel's target
    /// `expr` (rows' nested panels too), in query variables (`query`, as a string or as
    /// `{"query": …}`, and `definition`) and in annotation queries.
    static func names(inDashboard json: Any) -> Set<String> {
        var found: Set<String> = []
        collect(json, key: nil, into: &found)
        return found
    }

    /// The `driftwood_*` families in one PromQL expression. A histogram's series
    /// (`_bucket`, `_sum`, `_count`) count as its family, the name `/metrics` declares in `# TYPE`.
    static func names(inExpression expression: String) -> Set<String> {
        // A metric name starting with `driftwood_`, not inside a longer identifier.
        let metricName = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9_:])driftwood_[A-Za-z0-9_:]*[A-Za-z0-9_]")
        let range = NSRange(expression.startIndex..., in: expression)
        var found: Set<String> = []
        for match in metricName.matches(in: expression, range: range) {
            guard let r = Range(match.range, in: expression) else { continue }
            var name = String(expression[r])
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                name.removeLast(suffix.count)
                break
            }
            found.insert(name)
        }
        return found
    }

    /// Keys whose string values hold PromQL in Grafana's dashboard model.
    private static let queryKeys: Set<String> = ["expr", "query", "definition"]

    private static func collect(_ value: Any, key: String?, into found: inout Set<String>) {
        switch value {
        case let text as String:
            if let key, queryKeys.contains(key) { found.formUnion(names(inExpression: text)) }
        case let object as [String: Any]:
            // A variable's `"query": {"query": "…", "refId": …}` is reached through its inner key.
            for (k, v) in object { collect(v, key: k, into: &found) }
        case let array as [Any]:
            for element in array { collect(element, key: key, into: &found) }
        default:
            break
        }
    }
}
