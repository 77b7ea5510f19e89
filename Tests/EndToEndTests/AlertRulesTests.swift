import Foundation
import Testing

/// deploy/prometheus/rules.yml: valid for promtool, its unit tests (rules_test.yml beside it)
/// pass, and the compose Prometheus loads it.
@Suite struct AlertRulesTests {
    static let dir = Driftwood.packageRoot.appendingPathComponent("deploy/prometheus")

    @Test func rulesPassPromtoolCheckAndTheirUnitTests() throws {
        let check = try Driftwood.run(["check", "rules", "rules.yml"], directory: Self.dir, executable: "/usr/bin/promtool")
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 8 rules found"))
        let test = try Driftwood.run(["test", "rules", "rules_test.yml"], directory: Self.dir, executable: "/usr/bin/promtool")
        #expect(test.code == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"))
    }

    @Test func everyRuleTheIssueAsksForIsThere() throws {
        let rules = try StackFiles.yaml("deploy/prometheus/rules.yml")
        let names = ((rules["groups"] as? [[String: Any]]) ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
            .compactMap { $0["alert"] as? String }
        #expect(
            Set(names) == [
                "DriftwoodDown", "DriftwoodModelErrorRateHigh", "DriftwoodModelLatencyHigh", "DriftwoodFeatureDrift",
                "DriftwoodModelPerformanceDegraded", "DriftwoodFairnessViolation", "DriftwoodOutputNotDelivering",
                "DriftwoodDeadLettersGrowing",
            ])
        // The tests cover every rule.
        let tests = try StackFiles.text("deploy/prometheus/rules_test.yml")
        for name in names { #expect(tests.contains("alertname: \(name)"), "\(name) has no promtool test") }
    }

    @Test func composePrometheusLoadsTheRules() throws {
        let config = try StackFiles.yaml("deploy/prometheus/prometheus.yml")
        #expect(config["rule_files"] as? [String] == ["rules.yml"])
        let compose = try StackFiles.text("docker-compose.yml")
        #expect(compose.contains("./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro"))
        let check = try Driftwood.run(["check", "config", "prometheus.yml"], directory: Self.dir, executable: "/usr/bin/promtool")
        #expect(check.code == 0, "\(check.stdout)\(check.stderr)")
    }
}
