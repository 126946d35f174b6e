import Foundation
import SpoolBroker
import SpoolFormat

/// A refusal of an API call: its status and why.
struct APIError: Error {
    var status: Int
    var message: String

    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// One call of the JSON API under `/api/v1/`: routes it and answers with JSON, or with
/// `{"error": {"status": …, "message": …}}`.
struct ConsoleAPI: Sendable {
    let handler: ConsoleHandler
    let request: HTTPRequest
    /// The path's segments after `api`.
    let segments: [String]

    /// Records one page may hold at most.
    static let pageSizeMax = 500
    static let pageSizeDefault = 50

    var broker: Broker { handler.broker }

    func respond() async -> HTTPResponse {
        do {
            guard segments.first == "v1" else { throw APIError(404, "unknown API version: use /api/v1/") }
            return try await route(Array(segments.dropFirst()))
        } catch let error as APIError {
            return .error(error.status, error.message)
        } catch let error as BrokerError {
            return .error(Self.status(of: error), error.description)
        } catch {
            return .error(500, "\(error)")
        }
    }

    private func route(_ path: [String]) async throws -> HTTPResponse {
        // HEAD is GET without the body (the connection leaves the body out).
        switch (request.method == "HEAD" ? "GET" : request.method, path.count, path.first ?? "") {
        case ("GET", 1, "overview"): return .json(overview())
        case ("GET", 1, "history"): return .json(historyBody())
        case ("GET", 1, "topics"): return .json(overview().topics)
        case ("GET", 2, "topics"): return .json(try topicDetail(path[1]))
        case ("GET", 3, "topics") where path[2] == "records": return .json(try await records(topic: path[1]))
        case ("POST", 3, "topics") where path[2] == "configs": return .json(try alterConfigs(path[1]))
        case ("GET", 1, "groups"): return .json(overview().groups)
        case ("GET", 2, "groups"): return .json(try groupDetail(path[1]))
        case ("POST", 3, "groups") where path[2] == "reset": return .json(try await resetOffsets(group: path[1]))
        case ("GET", 1, "jobs"): return .json(try await jobTopics())
        case ("GET", 2, "jobs"): return try await jobsOfTopic(path[1])
        case ("GET", 3, "jobs"): return .json(try await jobOfTopic(path[1], id: path[2]))
        case ("GET", 1, "dead-letters"): return .json(try await jobTopics())
        case ("GET", 2, "dead-letters"): return .json(try await deadLetterPage(path[1]))
        case ("POST", 3, "dead-letters") where path[2] == "redrive": return .json(try await redrive(path[1]))
        case ("POST", 3, "dead-letters") where path[2] == "purge": return .json(try await purge(path[1]))
        default:
            if Self.knownRoute(path) { throw APIError(405, "\(request.method) is not allowed on \(request.path)") }
            throw APIError(404, "no such API endpoint: \(request.path)")
        }
    }

    /// Whether some method is served on `path` (a wrong method there is 405, not 404).
    private static func knownRoute(_ path: [String]) -> Bool {
        switch (path.count, path.first ?? "") {
        case (1, "overview"), (1, "history"), (1, "topics"), (2, "topics"), (1, "groups"), (2, "groups"), (1, "jobs"), (2, "jobs"), (3, "jobs"), (1, "dead-letters"),
             (2, "dead-letters"):
            true
        case (3, "topics"): path[2] == "records" || path[2] == "configs"
        case (3, "groups"): path[2] == "reset"
        case (3, "dead-letters"): path[2] == "redrive" || path[2] == "purge"
        default: false
        }
    }

    static func status(of error: BrokerError) -> Int {
        switch error.code {
        case .unknownTopicOrPartition: 404
        case .offsetOutOfRange, .invalidRequest, .invalidTopicException, .invalidConfig: 400
        default: error == .closed ? 503 : 500
        }
    }

    // MARK: input

    /// An integer query parameter within `range`; `fallback` when absent.
    func integer<T: FixedWidthInteger>(_ name: String, _ range: ClosedRange<T>, default fallback: T? = nil) throws -> T? {
        guard let text = request.query[name] else { return fallback }
        guard let value = T(text), range.contains(value) else { throw APIError(400, "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(text)'") }
        return value
    }

    /// A true-or-false query parameter; `fallback` when absent. Anything but `true` or `false` is
    /// refused: read as false, `?all=yes` silently showed less than was asked for.
    func boolean(_ name: String, default fallback: Bool = false) throws -> Bool {
        switch request.query[name] {
        case nil: return fallback
        case "true": return true
        case "false": return false
        case let text?: throw APIError(400, "\(name) must be true or false, not '\(text)'")
        }
    }

    /// Which part of a list one page shows: `?start=N&limit=N`.
    struct PageWindow {
        var start: Int
        var limit: Int

        /// The page of `items`, and the `start` of the next page (nil on the last).
        func cut<Item>(_ items: [Item]) -> (items: [Item], next: Int?) {
            let page = Array(items.dropFirst(start).prefix(limit))
            return (page, start + page.count < items.count ? start + page.count : nil)
        }
    }

    /// `?start=N&limit=N` (start from 0, limit 1...500, default 50), checked before any list is read.
    func pageWindow() throws -> PageWindow {
        PageWindow(start: try integer("start", 0...Int.max, default: 0) ?? 0,
                   limit: try integer("limit", 1...Self.pageSizeMax, default: Self.pageSizeDefault) ?? Self.pageSizeDefault)
    }

    /// The request body as a JSON object (an empty body is an empty object).
    func bodyObject() throws -> [String: Any] {
        if request.body.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
            throw APIError(400, "the body must be a JSON object")
        }
        return object
    }
}
