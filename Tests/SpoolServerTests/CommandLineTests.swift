import Foundation
import Glibc
import SpoolBroker
import SpoolEmbedded
import Testing

/// The real `spool` binary's client commands against a real `spool serve`: output, exit codes,
/// messages.
@Suite(.serialized) struct CommandLineTests {
    static func spool(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String, errors: String) {
        try await run(ServerProcess.spoolPath, arguments, input: input, timeout: 60)
    }

    /// `spool produce` sends each line's bytes as they are: invalid UTF-8 and a CR before the LF
    /// were replaced and stripped when it read text lines.
    @Test(.timeLimit(.minutes(3)))
    func produceSendsTheBytesOfEachLineAsTheyAre() async throws {
        let spool = try InProcessServer()
        defer { spool.stop() }
        try spool.broker.createTopic("bytes", partitions: 1)
        let input: [UInt8] = Array("k1::".utf8) + [0x76, 0xFF, 0xFE, 0x00, 0x31, 0x0D, 0x0A] + Array("k2::plain\nno separator\n\nlast::no newline".utf8)
        let produced = try await run(ServerProcess.spoolPath, ["produce", "bytes", "--key-separator", "::", "--broker", "127.0.0.1:\(spool.port)"],
                                     inputBytes: Data(input), timeout: 60)
        #expect(produced.status == 0, "\(produced.errors)")
        #expect(produced.errors == "spool produce: 5 records stored in bytes\n")
        let records = try await EmbeddedTransport(EmbeddedBroker(broker: spool.broker)).readAll(topic: "bytes")
        #expect(records.map(\.key) == [Array("k1".utf8), Array("k2".utf8), nil, nil, Array("last".utf8)])
        #expect(records.map(\.value) == [[0x76, 0xFF, 0xFE, 0x00, 0x31, 0x0D], Array("plain".utf8), Array("no separator".utf8), [], Array("no newline".utf8)])

        let empty = try await run(ServerProcess.spoolPath, ["produce", "bytes", "--key-separator", "", "--broker", "127.0.0.1:\(spool.port)"],
                                  input: "k:v\n", timeout: 60)
        #expect(empty.status == 64)
        #expect(empty.errors.hasPrefix("spool produce: --key-separator must not be empty\n"), "\(empty.errors)")
        #expect(try await EmbeddedTransport(EmbeddedBroker(broker: spool.broker)).readAll(topic: "bytes").count == 5, "nothing more was sent")
    }

    @Test(.timeLimit(.minutes(3)))
    func topicsProduceConsumeAndGroups() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let broker = ["--broker", server.bootstrap]

        let created = try await Self.spool(["topic", "create", "emails", "--partitions", "3", "--config", "retention.ms=3600000"] + broker)
        #expect(created.status == 0)
        #expect(created.output == "created topic emails with 3 partitions\n")
        let again = try await Self.spool(["topic", "create", "emails"] + broker)
        #expect(again.status == 1)
        #expect(again.errors == "spool topic create: topic 'emails' already exists: TOPIC_ALREADY_EXISTS (36)\n")
        #expect(try await Self.spool(["topic", "list"] + broker).output == "emails\t3 partitions\n")

        let lines = (0..<300).map { "user-\($0 % 7):welcome \($0)" }.joined(separator: "\n") + "\n"
        let produced = try await Self.spool(["produce", "emails", "--key-separator", ":", "--header", "source=cli"] + broker, input: lines)
        #expect(produced.status == 0, "\(produced.errors)")
        #expect(produced.errors == "spool produce: 300 records stored in emails\n")

        let described = try await Self.spool(["topic", "describe", "emails"] + broker)
        let ends = described.output.split(separator: "\n").dropFirst(2).compactMap { Int($0.split(separator: "\t")[3]) }
        #expect(ends.reduce(0, +) == 300)

        let first = try await Self.spool(["consume", "emails", "--group", "mailers", "--from-beginning", "--count", "200",
                                          "--format", "%k|%s|%h\\n"] + broker)
        #expect(first.status == 0, "\(first.errors)")
        let records = first.output.split(separator: "\n")
        #expect(records.count == 200)
        #expect(records.allSatisfy { $0.hasPrefix("user-") && $0.hasSuffix("|source=cli") })
        let rest = try await Self.spool(["consume", "emails", "--group", "mailers", "--from-beginning", "--count", "100"] + broker)
        #expect(Set(rest.output.split(separator: "\n").map(String.init)).isDisjoint(with: Set(records.map { String($0.split(separator: "|")[1]) })),
                "the group resumed after what it printed")

        let group = try await Self.spool(["group", "describe", "mailers"] + broker)
        #expect(group.status == 0)
        #expect(group.output.contains("group mailers: Empty, 0 members"))
        #expect(group.output.hasSuffix("total lag: 0\n"))
        #expect(try await Self.spool(["group", "list"] + broker).output.contains("mailers\n"))

        let deleted = try await Self.spool(["topic", "delete", "emails"] + broker)
        #expect(deleted.output == "deleted topic emails\n")
        let missing = try await Self.spool(["topic", "describe", "emails"] + broker)
        #expect(missing.status == 1)
        #expect(missing.errors == "spool topic describe: topic emails: UNKNOWN_TOPIC_OR_PARTITION (3)\n")
    }

    @Test(.timeLimit(.minutes(3)))
    func signupDemoOverTheWireThenDeadLettersListedAndRedriven() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let broker = ["--broker", server.bootstrap]

        let demo = try await Self.spool(["demo", "--users", "30"] + broker)
        #expect(demo.status == 0, "\(demo.errors)")
        #expect(demo.output.contains("signup demo against \(server.bootstrap)"))
        #expect(demo.output.contains("per user, kept"))

        let listed = try await Self.spool(["dlq", "list", "demo-photos"] + broker)
        #expect(listed.status == 0, "\(listed.errors)")
        let rows = listed.output.split(separator: "\n")
        #expect(rows.first?.hasPrefix("ID") == true && rows.count == 2)
        #expect(rows.last?.contains("user-13  3         demo-photos[") == true)
        #expect(rows.last?.contains("cannot decode corrupt.heic") == true)
        #expect(listed.errors == "spool dlq list: 1 dead letter in demo-photos.dlq\n")
        let id = try #require(rows.last?.split(separator: " ").first.map(String.init))

        let missing = try await Self.spool(["dlq", "redrive", "demo-photos", "--id", "no-such-job"] + broker)
        #expect(missing.status == 1)
        #expect(missing.errors.contains("no dead letter waiting with id no-such-job"))
        let redriven = try await Self.spool(["dlq", "redrive", "demo-photos", "--id", id] + broker)
        #expect(redriven.status == 0, "\(redriven.errors)")
        #expect(redriven.output == "redrove \(id) to demo-photos\n")
        #expect(try await Self.spool(["dlq", "list", "demo-photos"] + broker).errors == "spool dlq list: 0 dead letters in demo-photos.dlq\n")
        let all = try await Self.spool(["dlq", "list", "demo-photos.dlq", "--all"] + broker)
        #expect(all.output.split(separator: "\n").last?.hasSuffix("yes") == true)
        let again = try await Self.spool(["dlq", "redrive", "demo-photos", "--all"] + broker)
        #expect(again.errors == "spool dlq redrive: 0 jobs sent back\n")
        let described = try await Self.spool(["topic", "describe", "demo-photos"] + broker)
        let ends = described.output.split(separator: "\n").dropFirst(2).compactMap { Int($0.split(separator: "\t")[3]) }
        #expect(ends.reduce(0, +) == 61, "60 photos and the one sent back")
    }

    @Test func helpAndUsageErrors() async throws {
        for command in [["topic", "--help"], ["produce", "--help"], ["consume", "--help"], ["group", "--help"], ["serve", "--help"]] {
            let outcome = try await Self.spool(command)
            #expect(outcome.status == 0, "\(command)")
            #expect(outcome.output.hasPrefix("usage: spool \(command[0])"), "\(command): \(outcome.output)")
        }
        let cases: [([String], String)] = [
            (["topic"], "unknown subcommand ''"),
            (["topic", "create"], "expected 1 argument"),
            (["topic", "create", "t", "--partitions", "0"], "--partitions must be a whole number from 1"),
            (["topic", "create", "t", "--config", "novalue"], "--config takes KEY=VALUE"),
            (["produce"], "expected 1 argument"),
            (["produce", "t", "--key", "k", "--key-separator", ":"], "cannot be used together"),
            (["consume", "t", "--count", "-1"], "--count must be a whole number"),
            (["group", "describe"], "expected 1 argument"),
            (["topic", "list", "--broker", "nowhere"], "--broker must be HOST:PORT"),
            (["serve", "--listen", "localhost"], "--listen must be HOST:PORT"),
            (["serve", "--fsync", "sometimes"], "fsync policy must be"),
            (["serve", "--max-inflight-bytes", "100"], "--max-inflight-bytes must be a whole number from 1024"),
            (["serve", "--max-inflight-bytes", "4096", "--max-buffered-bytes", "2048"], "must be at least --max-inflight-bytes"),
            (["serve", "--max-partitions", "0"], "--max-partitions must be a whole number from 1"),
            (["serve", "--max-partitions", "10000000"], "open files; the open-file limit is"),
        ]
        for (arguments, message) in cases {
            let outcome = try await Self.spool(arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome.errors)")
            #expect(outcome.errors.contains(message), "\(arguments): \(outcome.errors)")
        }
    }

    @Test func anUnreachableBrokerIsOneClearLine() async throws {
        let outcome = try await Self.spool(["topic", "list", "--broker", "127.0.0.1:1"])
        #expect(outcome.status == 1)
        #expect(outcome.errors == "spool topic list: cannot reach the broker: 127.0.0.1:1: Connection refused\n")
        #expect(!outcome.errors.contains("Fatal"))
    }

    @Test(.timeLimit(.minutes(2)))
    func metricsEndpointServesPrometheusText() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let port = try #require(server.metricsPort, "\(server.output)")
        _ = try await Self.spool(["produce", "jobs", "--broker", server.bootstrap], input: "a\nb\nc\n")
        let health = await blocking { httpGet(port: port, path: "/healthz") }
        #expect(health.hasPrefix("HTTP/1.1 200 OK"))
        #expect(health.hasSuffix("ok\n"))
        let metrics = await blocking { httpGet(port: port, path: "/metrics") }
        #expect(metrics.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(metrics.contains("\nspool_records_in_total 3\n"))
        #expect(metrics.contains("spool_partition_log_end_offset{topic=\"jobs\",partition=\"0\"} 3\n"))
        #expect(metrics.contains("# TYPE spool_fsync_seconds histogram"))
        #expect(metrics.contains("spool_fsync_seconds_count "))
        #expect(metrics.contains("# TYPE spool_connections gauge"))
        #expect(await blocking { httpGet(port: port, path: "/other") }.hasPrefix("HTTP/1.1 404"))
    }

    @Test(.timeLimit(.minutes(2)))
    func serveRefusesANonLoopbackConsoleWithoutAToken() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let refused = try await Self.spool(["serve", "--data", data, "--listen", "127.0.0.1:0", "--http", "0.0.0.0:0"])
        #expect(refused.status == 64)
        #expect(refused.errors.contains("without --http-token"))
        #expect(!FileManager.default.fileExists(atPath: data + "/.lock"))
        // With a token it starts, and the token guards everything but /healthz.
        let server = try await ServerProcess.start(data: data, arguments: ["--http", "127.0.0.1:0", "--http-token", "s3cret"])
        defer { server.kill() }
        let port = try #require(server.metricsPort, "\(server.output)")
        #expect(await blocking { httpGet(port: port, path: "/api/v1/overview") }.hasPrefix("HTTP/1.1 401"))
        #expect(await blocking { httpGet(port: port, path: "/healthz") }.hasPrefix("HTTP/1.1 200"))
        #expect(await blocking { httpRequest(port: UInt16(port), "GET", "/api/v1/overview", headers: ["Authorization": "Bearer s3cret"])?.status } == 200)
    }
}

/// A plain HTTP/1.1 GET over a socket; the whole response (the server closes the connection).
func httpGet(port: Int, path: String) -> String {
    guard let client = try? RawClient(port: port) else { return "" }
    client.send(Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += chunk[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
}

extension CommandLineTests {
    /// User plus system CPU time of a process so far, in seconds (from /proc).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test(.timeLimit(.minutes(2)))
    func theHTTPListenerWaitsQuietlyWhenOutOfDescriptorsAndRecovers() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        // spool serve sizes its limits to the open-file limit it starts with, so it does not run out
        // on its own: lower the limit under the running server (as an operator, or descriptors taken
        // by something else, might) to a few more than it has open.
        let server = try await ServerProcess.start(data: data, descriptorsMax: 256)
        defer { server.kill() }
        let port = try #require(server.metricsPort, "\(server.output)")
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count
        let prlimit = Process()
        prlimit.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        prlimit.arguments = ["--pid", "\(server.pid)", "--nofile=\(open + 4):\(open + 4)"]
        try prlimit.run()
        prlimit.waitUntilExit()
        try #require(prlimit.terminationStatus == 0, "prlimit failed")
        // More connections than the server has descriptors left: the rest wait in its queue.
        var clients: [RawClient] = []
        for _ in 0..<80 { clients.append(try RawClient(port: port)) }
        try await Task.sleep(for: .milliseconds(500))
        let before = try #require(Self.cpuSeconds(server.pid))
        try await Task.sleep(for: .seconds(2))
        let after = try #require(Self.cpuSeconds(server.pid))
        // A listener that is readable but cannot be accepted from must not be polled in a loop:
        // that would burn a core (2 s of CPU here) for as long as the descriptors stay used up.
        #expect(after - before < 0.3, "the server used \(after - before) s of CPU in 2 s while out of descriptors")
        #expect(server.output.contains("http: cannot accept a connection"), "the server ran out of descriptors: \(server.output)")
        clients.removeAll()
        var healthy = false
        for _ in 0..<100 where !healthy {
            healthy = await blocking { httpGet(port: port, path: "/healthz").hasPrefix("HTTP/1.1 200") }
            if !healthy { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(healthy, "\(server.output)")
    }
}
