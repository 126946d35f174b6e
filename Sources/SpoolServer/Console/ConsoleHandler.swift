import Foundation
import SpoolBroker
import Synchronization

/// Everything `spool serve` answers over HTTP: `/healthz`, `/metrics`, the console page at `/`
/// and the JSON API under `/api/v1/` (docs/http-api.md). API calls run as tasks off the HTTP
/// loop and go through the broker's public API.
public final class ConsoleHandler: HTTPHandler {
    let broker: Broker
    let server: Server?
    let history: ConsoleHistory
    let jobs: (any ConsoleJobs)?
    /// Dead letters waiting per dead-letter topic, with the offsets they were counted at.
    let deadLetterCounts = Mutex<[String: (bounds: [Int64], waiting: Int)]>([:])

    /// - Parameters:
    ///   - server: the Kafka-protocol server, for its connection count and produce latency (nil
    ///     for a broker served over HTTP alone).
    ///   - jobs: the job runtime (nil: the jobs and dead-letter endpoints answer 501).
    public init(broker: Broker, server: Server?, jobs: (any ConsoleJobs)?) {
        self.broker = broker
        self.server = server
        self.jobs = jobs
        history = ConsoleHistory(broker: broker, latency: server?.router.produceLatency)
        history.start()
    }

    /// Stops sampling the history.
    public func stop() { history.stop() }

    public func handle(_ request: HTTPRequest) -> HTTPHandling {
        let segments = Self.segments(request.target)
        guard let segments else { return .now(.error(400, "malformed percent-encoding in the path")) }
        if segments.first == "api" {
            let api = ConsoleAPI(handler: self, request: request, segments: Array(segments.dropFirst()))
            return .later { await api.respond() }
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = HTTPResponse.error(405, "\(request.path) takes GET")
            response.headers.append(("Allow", "GET, HEAD"))
            return .now(response)
        }
        switch request.path {
        case "/healthz":
            return .now(.text(200, "ok\n"))
        case "/metrics":
            let (broker, figures, jobs) = (self.broker, server.map(PrometheusText.ServerFigures.init) ?? PrometheusText.ServerFigures(), self.jobs)
            return .later { .text(200, await PrometheusText.render(broker: broker, server: figures, jobs: jobs), type: "text/plain; version=0.0.4; charset=utf-8") }
        case "/", "/index.html":
            return .now(ConsoleAssets.page)
        case "/console.js":
            return .now(ConsoleAssets.script)
        case "/console.css":
            return .now(ConsoleAssets.style)
        default:
            return .now(.error(404, "no such page: try /, /api/v1/overview, /metrics or /healthz"))
        }
    }

    /// The target's path split at `/` and each segment percent-decoded (so that a group id may
    /// hold an encoded `/`); nil when an escape is malformed.
    static func segments(_ target: String) -> [String]? {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = HTTPParser.percentDecoded(raw, plusIsSpace: false) else { return nil }
            segments.append(segment)
        }
        return segments
    }
}
