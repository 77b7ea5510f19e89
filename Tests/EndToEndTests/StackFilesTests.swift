import Foundation
import Testing

/// docker-compose.yml, the Dockerfile and the files under deploy/ and templates/: they parse, and
/// everything they name exists and fits together. (No Docker engine runs in the tests: this is
/// what can be checked without one.)
@Suite struct StackFilesTests {
    // MARK: docker-compose.yml

    /// A compose service, as far as the checks need it.
    struct Service {
        let name: String
        let spec: [String: Any]

        /// Bind mounts: host path (relative to the repository root, as compose reads it) -> container path.
        var bindMounts: [(host: String, container: String)] {
            volumes.compactMap { $0.bind ? ($0.source, $0.target) : nil }
        }

        /// Named volumes mounted, by volume name.
        var namedVolumes: [String] { volumes.compactMap { $0.bind ? nil : $0.source } }

        private var volumes: [(bind: Bool, source: String, target: String)] {
            (spec["volumes"] as? [Any] ?? []).compactMap { entry in
                if let short = entry as? String {
                    let parts = short.split(separator: ":").map(String.init)
                    guard parts.count >= 2 else { return nil }  // an anonymous volume
                    let source = parts[0]
                    return (source.hasPrefix(".") || source.hasPrefix("/") || source.hasPrefix("~"), source, parts[1])
                }
                guard let long = entry as? [String: Any], let source = long["source"] as? String,
                    let target = long["target"] as? String
                else { return nil }
                return ((long["type"] as? String) == "bind", source, target)
            }
        }

        /// `command` and `entrypoint` arguments, in that order of appearance in a `docker run`.
        var arguments: [String] {
            func list(_ key: String) -> [String] {
                if let l = spec[key] as? [Any] { return l.map { "\($0)" } }
                if let s = spec[key] as? String { return s.split(separator: " ").map(String.init) }
                return []
            }
            return list("entrypoint") + list("command")
        }

        /// `environment`, as a mapping or as `KEY=value` lines.
        var environment: [String: String] {
            if let map = spec["environment"] as? [String: Any] { return map.mapValues { "\($0)" } }
            var env: [String: String] = [:]
            for line in spec["environment"] as? [Any] ?? [] {
                let parts = "\(line)".split(separator: "=", maxSplits: 1).map(String.init)
                env[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            return env
        }

        var dependsOn: [String] {
            if let list = spec["depends_on"] as? [Any] { return list.map { "\($0)" } }
            return (spec["depends_on"] as? [String: Any])?.keys.sorted() ?? []
        }

        /// The host file or folder a container path resolves to through a bind mount, or nil.
        func hostPath(of containerPath: String) -> String? {
            for mount in bindMounts.sorted(by: { $0.container.count > $1.container.count }) {
                let target = mount.container.hasSuffix("/") ? String(mount.container.dropLast()) : mount.container
                if containerPath == target { return mount.host }
                if containerPath.hasPrefix(target + "/") {
                    return mount.host + containerPath.dropFirst(target.count)
                }
            }
            return nil
        }
    }

    static func compose() throws -> (root: [String: Any], services: [Service]) {
        let root = try StackFiles.yaml("docker-compose.yml")
        let services = try #require(root["services"] as? [String: Any], "docker-compose.yml has no services")
        return (root, services.keys.sorted().map { Service(name: $0, spec: services[$0] as? [String: Any] ?? [:]) })
    }

    static func service(_ name: String) throws -> Service {
        try #require(try compose().services.first { $0.name == name }, "docker-compose.yml has no service '\(name)'")
    }

    @Test func composeHasTheWholeStack() throws {
        let names = Set(try Self.compose().services.map(\.name))
        for wanted in [
            "elasticsearch", "kibana", "kibana-setup", "model-log-writer", "driftwood", "prometheus", "grafana",
        ] {
            #expect(names.contains(wanted), "docker-compose.yml has no service '\(wanted)'")
        }
    }

    @Test func everyBuildContextAndDockerfileExists() throws {
        let builds = try Self.compose().services.filter { $0.spec["build"] != nil }
        #expect(!builds.isEmpty, "driftwood should be built from the repository")
        for service in builds {
            var context = ".", dockerfile = "Dockerfile"
            if let text = service.spec["build"] as? String {
                context = text
            } else if let build = service.spec["build"] as? [String: Any] {
                context = build["context"] as? String ?? "."
                dockerfile = build["dockerfile"] as? String ?? "Dockerfile"
            }
            #expect(StackFiles.exists(context), "\(service.name): build context '\(context)' does not exist")
            let path = (context as NSString).appendingPathComponent(dockerfile)
            #expect(StackFiles.exists(path), "\(service.name): '\(path)' does not exist")
        }
    }

    @Test func everyBindMountAndEnvFileExists() throws {
        var checked = 0
        for service in try Self.compose().services {
            for mount in service.bindMounts {
                #expect(StackFiles.exists(mount.host), "\(service.name) mounts '\(mount.host)', which does not exist")
                checked += 1
            }
            var envFiles: [String] = []
            if let one = service.spec["env_file"] as? String { envFiles = [one] }
            for entry in service.spec["env_file"] as? [Any] ?? [] {
                if let path = entry as? String { envFiles.append(path) }
                if let path = (entry as? [String: Any])?["path"] as? String { envFiles.append(path) }
            }
            for file in envFiles {
                #expect(StackFiles.exists(file), "\(service.name): env_file '\(file)' does not exist")
            }
        }
        #expect(checked >= 5)
    }

    /// A path a service's command names inside one of its bind mounts (a script, a config file)
    /// exists in the repository.
    @Test func everyFileACommandNamesThroughABindMountExists() throws {
        var checked = 0
        for service in try Self.compose().services {
            for argument in service.arguments {
                let path = argument.split(separator: "=", maxSplits: 1).last.map(String.init) ?? argument
                guard path.hasPrefix("/"), let host = service.hostPath(of: path) else { continue }
                #expect(StackFiles.exists(host), "\(service.name) runs with '\(path)', but '\(host)' does not exist")
                checked += 1
            }
        }
        // The writer script, the Kibana import script and its file, Prometheus's configuration.
        #expect(checked >= 4)
    }

    @Test func namedVolumesAreDeclaredAndDependenciesAreServices() throws {
        let (root, services) = try Self.compose()
        let declared = Set((root["volumes"] as? [String: Any] ?? [:]).keys)
        let names = Set(services.map(\.name))
        for service in services {
            for volume in service.namedVolumes {
                #expect(declared.contains(volume), "\(service.name) mounts volume '\(volume)', not declared")
            }
            for dependency in service.dependsOn {
                #expect(names.contains(dependency), "\(service.name) depends on '\(dependency)', not a service")
            }
        }
    }

    /// Local-only: every published port listens on the loopback address, and images are pinned.
    @Test func portsAreLocalAndImagesArePinned() throws {
        for service in try Self.compose().services {
            for port in service.spec["ports"] as? [Any] ?? [] {
                let ok =
                    (port as? String)?.hasPrefix("127.0.0.1:") == true
                    || ((port as? [String: Any])?["host_ip"] as? String) == "127.0.0.1"
                #expect(ok, "\(service.name) publishes \(port) beyond 127.0.0.1")
            }
            guard service.spec["build"] == nil else { continue }
            let image = try #require(service.spec["image"] as? String, "\(service.name) has neither image nor build")
            let tag = image.split(separator: "/").last?.split(separator: ":").dropFirst().first
            #expect(tag != nil && tag != "latest", "\(service.name): image '\(image)' is not pinned to a version")
        }
    }

    /// The driftwood service runs a pipeline in the image, configures it only through variables
    /// that pipeline reads, and serves /metrics where Prometheus scrapes.
    @Test func driftwoodRunsTheElasticsearchPipelineAndPrometheusScrapesIt() throws {
        let driftwood = try Self.service("driftwood")
        let pipeline = try #require(
            driftwood.arguments.first { $0.hasPrefix("pipelines/") }, "the driftwood service runs no pipeline")
        #expect(driftwood.arguments.first == "run")
        #expect(StackFiles.exists(pipeline))
        let text = try StackFiles.text(pipeline)
        for name in driftwood.environment.keys.sorted() {
            #expect(text.contains("${\(name)"), "\(pipeline) never reads \(name), which the driftwood service sets")
        }
        let address = try #require(driftwood.environment["DRIFTWOOD_METRICS_ADDRESS"])
        #expect(address.hasPrefix("0.0.0.0:"), "other containers cannot reach /metrics on \(address)")
        let port = try #require(address.split(separator: ":").last.map(String.init))

        let prometheus = try StackFiles.yaml("deploy/prometheus/prometheus.yml")
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let targets = jobs.flatMap { job in
            (job["static_configs"] as? [[String: Any]] ?? []).flatMap { $0["targets"] as? [String] ?? [] }
        }
        #expect(targets.contains("driftwood:\(port)"), "Prometheus scrapes \(targets), not driftwood:\(port)")
        let config = try #require(
            try Self.service("prometheus").arguments.first { $0.hasPrefix("--config.file=") }?.split(separator: "=")
                .last.map(String.init))
        #expect(try Self.service("prometheus").hostPath(of: config) == "./deploy/prometheus/prometheus.yml")
    }

    // MARK: deploy/

    /// Every configuration file under deploy/ (Grafana provisioning, dashboards, Prometheus,
    /// Kibana saved objects) parses, whatever is added there later.
    @Test func everyConfigurationFileUnderDeployParses() throws {
        let root = StackFiles.url("deploy")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
        var parsed = 0
        for file in files.sorted() {
            let relative = "deploy/\(file)"
            switch (file as NSString).pathExtension {
            case "yml", "yaml":
                #expect(throws: Never.self, "\(relative) is not a YAML mapping") { _ = try StackFiles.yaml(relative) }
            case "json":
                #expect(throws: Never.self, "\(relative) is not a JSON object") { _ = try StackFiles.json(relative) }
            case "ndjson":
                #expect(throws: Never.self, "\(relative) is not JSON lines") { _ = try StackFiles.ndjson(relative) }
            default:
                continue
            }
            parsed += 1
        }
        // prometheus.yml, two provisioning files, the Grafana dashboard, the Kibana objects.
        #expect(parsed >= 5)
    }

    // MARK: Dockerfile

    @Test func dockerfileCopiesWhatExistsAndShipsThePipelines() throws {
        let lines = try StackFiles.text("Dockerfile").split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let finalStage = lines.lastIndex { $0.hasPrefix("FROM ") } ?? 0
        var copiedIntoTheImage: Set<String> = []
        var copies = 0
        for (n, line) in lines.enumerated() where line.hasPrefix("COPY ") && !line.contains("--from=") {
            let words = line.split(separator: " ").dropFirst().filter { !$0.hasPrefix("--") }.map(String.init)
            for source in words.dropLast() {
                #expect(StackFiles.exists(source), "Dockerfile copies '\(source)', which does not exist")
                if n > finalStage {
                    copiedIntoTheImage.insert(source.hasSuffix("/") ? String(source.dropLast()) : source)
                }
            }
            copies += 1
        }
        #expect(copies > 0)
        // Relative paths in pipelines resolve against the working directory: the pipelines, the
        // template and the samples they name travel with the binary into the image that runs.
        for folder in ["pipelines", "templates", "samples"] {
            #expect(copiedIntoTheImage.contains(folder), "the runtime image lacks \(folder)/")
        }
        let ignored = Set(
            try StackFiles.text(".dockerignore").split(separator: "\n").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "/ "))
            })
        for folder in ["pipelines", "templates", "samples", "Sources", "Package.swift"] {
            #expect(!ignored.contains(folder), ".dockerignore leaves \(folder) out of the build context")
        }
        for folder in [".build", "out", ".driftwood"] {
            #expect(ignored.contains(folder), ".dockerignore should leave \(folder) out of the build context")
        }
        #expect(lines.contains { $0.hasPrefix("USER ") && !$0.contains("root") }, "the image should not run as root")
        #expect(lines.contains { $0.hasPrefix("ENTRYPOINT") && $0.contains("driftwood") })
        for from in lines.filter({ $0.hasPrefix("FROM ") }) {
            let image = String(from.split(separator: " ")[1])
            #expect(image.contains(":") && !image.hasSuffix(":latest"), "'\(from)' is not pinned")
        }
    }

    // MARK: Grafana and Prometheus

    static func provisionedDatasourceUIDs() throws -> Set<String> {
        let file = try StackFiles.yaml("deploy/grafana/provisioning/datasources/prometheus.yml")
        let sources = try #require(file["datasources"] as? [[String: Any]])
        return Set(sources.compactMap { $0["uid"] as? String })
    }

    @Test func grafanaProvisioningParsesAndPointsAtTheDashboards() throws {
        let uids = try Self.provisionedDatasourceUIDs()
        #expect(uids == ["prometheus"])
        let grafana = try Self.service("grafana")
        let providers = try #require(
            try StackFiles.yaml("deploy/grafana/provisioning/dashboards/driftwood.yml")["providers"] as? [[String: Any]]
        )
        #expect(!providers.isEmpty)
        for provider in providers {
            let path = try #require((provider["options"] as? [String: Any])?["path"] as? String)
            let host = try #require(grafana.hostPath(of: path), "grafana does not mount anything at \(path)")
            let files = try FileManager.default.contentsOfDirectory(atPath: StackFiles.url(host).path)
            #expect(files.contains("driftwood.json"), "\(host) has no driftwood.json")
        }
        // The provisioning folders are mounted where Grafana reads them.
        for kind in ["datasources", "dashboards"] {
            #expect(
                grafana.hostPath(of: "/etc/grafana/provisioning/\(kind)") == "./deploy/grafana/provisioning/\(kind)")
        }
        let home = try #require(grafana.environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
        let homeOnHost = try #require(grafana.hostPath(of: home))
        #expect(StackFiles.exists(homeOnHost))
    }

    @Test func grafanaDashboardParsesAndEveryPanelUsesTheProvisionedDatasource() throws {
        let uids = try Self.provisionedDatasourceUIDs()
        let dashboard = try StackFiles.json("deploy/grafana/dashboards/driftwood.json")
        #expect(dashboard["uid"] as? String == "driftwood")
        var panels = dashboard["panels"] as? [[String: Any]] ?? []
        panels += panels.flatMap { $0["panels"] as? [[String: Any]] ?? [] }
        var ids: Set<Int> = []
        var queried = 0
        for panel in panels {
            let title = panel["title"] as? String ?? "?"
            if let id = panel["id"] as? Int { #expect(ids.insert(id).inserted, "panel id \(id) is used twice") }
            #expect(panel["gridPos"] is [String: Any], "panel '\(title)' has no gridPos")
            guard panel["type"] as? String != "row" else { continue }
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let source = (target["datasource"] ?? panel["datasource"]) as? [String: Any]
                #expect(uids.contains(source?["uid"] as? String ?? ""), "panel '\(title)' uses another data source")
                #expect(!(target["expr"] as? String ?? "").isEmpty, "panel '\(title)' has an empty query")
                queried += 1
            }
        }
        #expect(queried >= 10)
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables where variable["type"] as? String == "query" {
            #expect(uids.contains((variable["datasource"] as? [String: Any])?["uid"] as? String ?? ""))
        }
    }

    // MARK: Kibana

    @Test func kibanaSavedObjectsParseAndEveryReferenceResolves() throws {
        let objects = try StackFiles.ndjson("deploy/kibana/driftwood.ndjson")
        var known: Set<String> = []
        for object in objects {
            let key = "\(object["type"] as? String ?? "?")/\(object["id"] as? String ?? "?")"
            #expect(known.insert(key).inserted, "\(key) appears twice")
            #expect(object["attributes"] is [String: Any], "\(key) has no attributes")
        }
        for type in ["index-pattern", "lens", "search", "dashboard"] {
            #expect(objects.contains { $0["type"] as? String == type }, "no \(type) object")
        }
        for object in objects {
            let key = "\(object["type"] as? String ?? "?")/\(object["id"] as? String ?? "?")"
            let references = object["references"] as? [[String: Any]] ?? []
            for reference in references {
                let target = "\(reference["type"] as? String ?? "?")/\(reference["id"] as? String ?? "?")"
                #expect(known.contains(target), "\(key) refers to \(target), which the file does not hold")
            }
            let names = Set(references.compactMap { $0["name"] as? String })
            let attributes = object["attributes"] as? [String: Any] ?? [:]
            // JSON held in strings parses too.
            let meta = attributes["kibanaSavedObjectMeta"] as? [String: Any]
            for (field, text) in [
                ("panelsJSON", attributes["panelsJSON"]), ("optionsJSON", attributes["optionsJSON"]),
                ("searchSourceJSON", meta?["searchSourceJSON"]),
            ] {
                guard let text = text as? String else { continue }
                #expect(
                    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil, "\(key): \(field) is not JSON")
            }
            if let panelsText = attributes["panelsJSON"] as? String {
                let panels = try #require(
                    try JSONSerialization.jsonObject(with: Data(panelsText.utf8)) as? [[String: Any]])
                #expect(!panels.isEmpty)
                for panel in panels {
                    let index = panel["panelIndex"] as? String ?? "?"
                    let name = "\(index):\(panel["panelRefName"] as? String ?? "?")"
                    #expect(names.contains(name), "\(key): panel \(index) has no reference '\(name)'")
                }
            }
            if let state = attributes["state"] as? [String: Any] {
                let layers = ((state["datasourceStates"] as? [String: Any])?["formBased"] as? [String: Any])?["layers"]
                for layer in (layers as? [String: Any] ?? [:]).keys {
                    #expect(
                        names.contains("indexpattern-datasource-layer-\(layer)"),
                        "\(key): layer \(layer) has no data view")
                }
            }
        }
    }

    /// The data views cover the indices the pipelines write (logs and alerts in model-logs-*, reports
    /// in model-metrics-*), and every field a visualisation or the saved search shows is mapped by
    /// the index template of its data view.
    @Test func kibanaUsesTheIndicesAndFieldsTheTemplateMaps() throws {
        let objects = try StackFiles.ndjson("deploy/kibana/driftwood.ndjson")
        let templates = [
            "model-logs-2026.11.24": try StackFiles.json("templates/model-logs.json"),
            "model-metrics-2026.11.24": try StackFiles.json("templates/model-metrics.json"),
        ]
        var mappedByView: [String: Set<String>] = [:]
        for view in objects where view["type"] as? String == "index-pattern" {
            let attributes = try #require(view["attributes"] as? [String: Any])
            #expect(attributes["timeFieldName"] as? String == "@timestamp")
            let title = try #require(attributes["title"] as? String)
            let index = try #require(templates.keys.first { StackFiles.glob(title, matches: $0) }, "\(title) matches no index")
            mappedByView[view["id"] as! String] = StackFiles.mappedFields(ofTemplate: templates[index]!)
        }
        #expect(mappedByView.count == 2)

        var used: Set<String> = []
        for object in objects {
            let attributes = object["attributes"] as? [String: Any] ?? [:]
            var fields = Set(attributes["columns"] as? [String] ?? [])
            let state = attributes["state"] as? [String: Any]
            let layers = ((state?["datasourceStates"] as? [String: Any])?["formBased"] as? [String: Any])?["layers"]
            for layer in (layers as? [String: Any] ?? [:]).values {
                for column in ((layer as? [String: Any])?["columns"] as? [String: Any] ?? [:]).values {
                    if let field = (column as? [String: Any])?["sourceField"] as? String, field != "___records___" {
                        fields.insert(field)
                    }
                }
            }
            used.formUnion(fields)
            let views = (object["references"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "index-pattern" }
            for view in views {
                let mapped = try #require(mappedByView[view["id"] as! String])
                for field in fields.sorted() {
                    // drift.features.* are mapped by the metrics template's dynamic template.
                    let dynamic = field.hasPrefix("drift.features.") && mapped.contains("drift.features")
                    #expect(mapped.contains(field) || dynamic, "\(object["id"]!) shows \(field), which its index template does not map")
                }
            }
        }
        for field in ["log.level", "model", "latency_ms", "drift.max", "drift.weighted", "drift.features.prediction", "alert.type"] {
            #expect(used.contains(field), "no visualisation uses \(field)")
        }
    }

    // MARK: Index template

    @Test func indexTemplateCoversTheIndicesThePipelinesWrite() throws {
        let template = try StackFiles.json("templates/model-logs.json")
        let patterns = try #require(template["index_patterns"] as? [String])
        #expect(patterns.contains { StackFiles.glob($0, matches: "model-logs-2026.11.24") })
        let mapped = StackFiles.mappedFields(ofTemplate: template)
        for field in ["@timestamp", "message", "tags", "host.name", "log.level", "log.file.path", "event.kind"] {
            #expect(mapped.contains(field), "the template does not map the ECS field \(field)")
        }
        let properties = (template["template"] as? [String: Any])?["mappings"] as? [String: Any]
        let timestamp = (properties?["properties"] as? [String: Any])?["@timestamp"] as? [String: Any]
        #expect(timestamp?["type"] as? String == "date")
        let metrics = try StackFiles.json("templates/model-metrics.json")
        #expect((metrics["index_patterns"] as? [String])?.contains { StackFiles.glob($0, matches: "model-metrics-2026.11.24") } == true)
        // Every pipeline shipping to Elasticsearch writes model-logs-* with this template.
        for name in StackFiles.pipelineNames {
            let text = try StackFiles.text("pipelines/\(name)")
            guard text.contains("type: elasticsearch") else { continue }
            #expect(text.contains(#"index: "model-logs-%{+yyyy.MM.dd}""#), "pipelines/\(name) writes elsewhere")
            #expect(
                text.contains(#"file: "${ES_TEMPLATE:-${DRIFTWOOD_HOME:-.}/templates/model-logs.json}""#),
                "pipelines/\(name) does not install the template")
        }
    }
}
