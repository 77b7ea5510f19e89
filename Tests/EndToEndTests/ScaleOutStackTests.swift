import Foundation
import Testing

/// docker-compose.yml's `scale-out` profile (a Kafka broker, two serving hosts with an agent
/// each, one aggregator), checked without a Docker engine: the services fit together, and each
/// driftwood service runs the ready pipeline that reads exactly what it is given.
@Suite struct ScaleOutStackTests {
    typealias Service = StackFilesTests.Service

    static func profiled() throws -> [Service] {
        try StackFilesTests.compose().services.filter { ($0.spec["profiles"] as? [String])?.contains("scale-out") == true }
    }

    static func running(_ pipeline: String, in services: [Service]) -> [Service] {
        services.filter { $0.arguments == ["run", "pipelines/\(pipeline)"] }
    }

    @Test func theProfileAddsABrokerTwoAgentsAndOneAggregatorAndLeavesTheDefaultStackAlone() throws {
        let all = try StackFilesTests.compose().services
        let profiled = try Self.profiled()
        #expect(Set(profiled.map(\.name)).isSuperset(of: ["kafka", "kafka-setup", "aggregator"]))
        #expect(Self.running("agent-to-kafka.yml", in: profiled).count == 2)
        #expect(Self.running("kafka-aggregator.yml", in: profiled).count == 1)
        // `docker compose up` without the profile starts what it started before.
        for service in all where !profiled.contains(where: { $0.name == service.name }) {
            #expect(service.spec["profiles"] == nil, "\(service.name) is in a profile")
            #expect(
                !service.dependsOn.contains { d in profiled.contains { $0.name == d } },
                "\(service.name) depends on a scale-out service")
        }
        // And nothing in the profile runs without the broker's topic.
        for service in Self.running("agent-to-kafka.yml", in: profiled) + Self.running("kafka-aggregator.yml", in: profiled) {
            let setup = (service.spec["depends_on"] as? [String: Any])?["kafka-setup"] as? [String: Any]
            #expect(setup?["condition"] as? String == "service_completed_successfully", "\(service.name) starts before the topic exists")
        }
    }

    @Test func theBrokerIsOneKRaftNodeAndTheSetupMakesTheTopicThePipelinesUse() throws {
        let kafka = try StackFilesTests.service("kafka")
        let env = kafka.environment
        #expect(Set((env["KAFKA_PROCESS_ROLES"] ?? "").split(separator: ",")) == ["broker", "controller"])
        #expect(env["KAFKA_CONTROLLER_QUORUM_VOTERS"]?.hasPrefix("\(env["KAFKA_NODE_ID"] ?? "?")@kafka:") == true)
        #expect(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1", "one broker cannot hold more replicas")
        // KRaft's cluster id is 16 bytes in base64url.
        let id = (env["CLUSTER_ID"] ?? "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        #expect(Data(base64Encoded: id + "==")?.count == 16, "CLUSTER_ID is not a base64url UUID")
        let advertised = (env["KAFKA_ADVERTISED_LISTENERS"] ?? "").split(separator: ",").map {
            String($0.split(separator: "/").last ?? "")
        }
        #expect(advertised.contains("kafka:9092"))

        let setup = try StackFilesTests.service("kafka-setup").arguments
        func value(after flag: String) -> String? { setup.firstIndex(of: flag).map { setup[$0 + 1] } }
        #expect(value(after: "--bootstrap-server") == "kafka:9092")
        let partitions = Int(value(after: "--partitions") ?? "") ?? 0
        #expect(partitions >= 2, "one partition leaves every aggregator but one idle")
        for service in try Self.profiled() where service.arguments.first == "run" {
            let e = service.environment
            #expect(advertised.contains(e["KAFKA_BROKERS"] ?? "?"), "\(service.name) reaches no advertised listener")
            #expect(e["KAFKA_TOPIC"] == value(after: "--topic"), "\(service.name) uses another topic than kafka-setup makes")
        }
    }

    @Test func eachDriftwoodServiceSetsOnlyWhatItsPipelineReads() throws {
        for service in try Self.profiled() where service.arguments.first == "run" {
            let pipeline = service.arguments[1]
            let text = try StackFiles.text(pipeline)
            for name in service.environment.keys.sorted() {
                #expect(text.contains("${\(name)"), "\(pipeline) never reads \(name), which \(service.name) sets")
            }
            #expect(service.spec["build"] != nil && service.spec["image"] as? String == "driftwood:local")
            // Checkpoints and filter state outlive the container.
            let dataDir = try #require(service.environment["DRIFTWOOD_DATA_DIR"], "\(service.name) keeps its state in the container")
            #expect(
                (service.spec["volumes"] as? [String] ?? []).contains { !$0.hasPrefix(".") && $0.hasSuffix(":\(dataDir)") },
                "\(service.name): \(dataDir) is not on a named volume")
        }
        let aggregator = try #require(Self.running("kafka-aggregator.yml", in: try Self.profiled()).first)
        #expect(aggregator.environment["ES_URL"] == "http://elasticsearch:9200")
        #expect(aggregator.environment["DRIFTWOOD_METRICS_ADDRESS"]?.hasPrefix("0.0.0.0:") == true)
    }

    /// Two serving hosts: each agent reads the logs its own writer writes, under a host name of
    /// its own, and keeps its checkpoints apart.
    @Test func theAgentsAreTwoHostsWithLogsAndCheckpointsOfTheirOwn() throws {
        let services = try Self.profiled()
        let agents = Self.running("agent-to-kafka.yml", in: services)
        let writers = services.filter { $0.arguments.contains { $0.hasSuffix("write_model_logs.py") } }
        var logVolumes: Set<String> = []
        var dataVolumes: Set<String> = []
        var hosts: Set<String> = []
        for agent in agents {
            let logs = try #require(agent.environment["MODEL_LOG_PATHS"])
            let folder = (logs as NSString).deletingLastPathComponent
            let volume = try #require(
                (agent.spec["volumes"] as? [String])?.first { $0.contains(":\(folder)") }?.split(separator: ":").first.map(String.init),
                "\(agent.name) mounts nothing at \(folder)")
            logVolumes.insert(volume)
            let writer = writers.first { w in (w.spec["volumes"] as? [String] ?? []).contains { $0.hasPrefix(volume + ":") } }
            #expect(writer != nil, "no writer writes \(volume), which \(agent.name) reads")
            if let writer { #expect(agent.dependsOn.contains(writer.name)) }
            dataVolumes.formUnion(
                (agent.spec["volumes"] as? [String] ?? []).filter { $0.hasSuffix(":/var/lib/driftwood") })
            hosts.insert(agent.spec["hostname"] as? String ?? "")
        }
        #expect(logVolumes.count == 2 && dataVolumes.count == 2 && hosts.count == 2 && !hosts.contains(""))
    }
}
