import Foundation
import Testing

/// The Grafana dashboard queries only metric families driftwood exports, and shows the ones the
/// issue asks for. (A live test against a running driftwood's `/metrics` can use
/// `DashboardMetrics.names(inDashboardAt: DashboardMetrics.stackDashboard)` the same way.)
@Suite struct DashboardMetricsTests {
    /// The families driftwood exports (docs/metrics.md, with the labels in the comments).
    static let exportedFamilies: Set<String> = [
        "driftwood_events_in_total",  // counter {stage}
        "driftwood_events_out_total",  // counter {stage}
        "driftwood_events_dropped_total",  // counter {stage, reason}
        "driftwood_events_dead_lettered_total",  // counter {output}
        "driftwood_output_retries_total",  // counter {output}
        "driftwood_bulk_bytes_total",  // counter {output, encoding}
        "driftwood_alerts_total",  // counter {type}
        "driftwood_queue_events",  // gauge {stage}
        "driftwood_file_offset_bytes",  // gauge {path}
        "driftwood_drift_score",  // gauge {feature, metric, group}
        "driftwood_model_error_rate",  // gauge {group}
        "driftwood_model_latency",  // gauge {group, statistic}
        "driftwood_feature_distribution",  // gauge {feature, group, bin}
        "driftwood_bulk_request_duration_seconds",  // histogram {output}
    ]

    @Test func everyMetricTheDashboardQueriesIsExported() throws {
        let used = try DashboardMetrics.names(inDashboardAt: DashboardMetrics.stackDashboard)
        #expect(!used.isEmpty)
        let unknown = used.subtracting(Self.exportedFamilies)
        #expect(unknown.isEmpty, "the dashboard queries metrics driftwood does not export: \(unknown.sorted())")
    }

    /// Model performance, drift, alerts and system health, as the issue lists them.
    @Test func theDashboardShowsModelHealthDriftAlertsAndSystemHealth() throws {
        let used = try DashboardMetrics.names(inDashboardAt: DashboardMetrics.stackDashboard)
        let wanted = [
            "driftwood_model_error_rate", "driftwood_model_latency",  // error rate and latency per model
            "driftwood_drift_score",  // drift scores over time
            "driftwood_alerts_total",  // alerts
            "driftwood_events_out_total", "driftwood_queue_events", "driftwood_output_retries_total",
            "driftwood_events_dead_lettered_total", "driftwood_bulk_request_duration_seconds",  // system health
        ]
        for name in wanted {
            #expect(used.contains(name), "no panel queries \(name)")
        }
    }

    @Test func histogramSeriesCountAsTheirFamily() {
        let expression = """
            histogram_quantile(0.95, sum by (le, output) (rate(driftwood_bulk_request_duration_seconds_bucket[5m])))
             / sum(rate(driftwood_bulk_request_duration_seconds_sum[5m]))
             + sum(rate(driftwood_bulk_request_duration_seconds_count[$__rate_interval]))
            """
        #expect(DashboardMetrics.names(inExpression: expression) == ["driftwood_bulk_request_duration_seconds"])
    }

    @Test func countersKeepTheirNameAndOtherMetricsAreIgnored() {
        let expression = """
            sum by (stage) (rate(driftwood_events_out_total{stage=~"es|jsonl"}[1m]))
              and on() up{job="driftwood"} > 0 and my_driftwood_events_total > 0 and process_cpu_seconds_total
            """
        #expect(DashboardMetrics.names(inExpression: expression) == ["driftwood_events_out_total"])
    }

    /// Targets of panels nested in collapsed rows, query variables in both their forms, and
    /// annotations; titles, legends and descriptions that mention a metric do not count.
    @Test func findsQueriesEverywhereInTheDashboardModel() throws {
        let json = """
            {
              "title": "about driftwood_not_a_metric",
              "annotations": {"list": [{"expr": "changes(driftwood_alerts_total[1m]) > 0"}]},
              "templating": {"list": [
                {"name": "model", "query": {"query": "label_values(driftwood_model_error_rate, group)", "refId": "m"},
                 "definition": "label_values(driftwood_model_error_rate, group)"},
                {"name": "stage", "query": "label_values(driftwood_queue_events, stage)"}
              ]},
              "panels": [
                {"type": "timeseries", "description": "from driftwood_also_not_a_metric",
                 "targets": [{"expr": "driftwood_drift_score", "legendFormat": "driftwood_legend_only"}]},
                {"type": "row", "collapsed": true, "panels": [
                  {"type": "timeseries", "targets": [{"expr": "rate(driftwood_bulk_bytes_total[1m])"}]}
                ]}
              ]
            }
            """
        let dashboard = try JSONSerialization.jsonObject(with: Data(json.utf8))
        #expect(
            DashboardMetrics.names(inDashboard: dashboard) == [
                "driftwood_alerts_total", "driftwood_model_error_rate", "driftwood_queue_events",
                "driftwood_drift_score", "driftwood_bulk_bytes_total",
            ])
    }
}
