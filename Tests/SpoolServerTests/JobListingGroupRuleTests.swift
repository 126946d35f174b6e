import Foundation
import Testing
@testable import SpoolJobs

/// Which job states take a group is one rule (`JobState.listingGroup`): `spool jobs list` and the
/// console's `/api/v1/jobs/TOPIC?state=S&group=G` give the same answer for every state, with a
/// group, without one and with an empty one, against the same `spool serve`.
@Suite(.serialized) struct JobListingGroupRuleTests {
    @Test(.timeLimit(.minutes(3)))
    func theCommandAndTheAPIAnswerAlikeForEveryState() async throws {
        let data = Clients.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try await ServerProcess.start(data: data)
        defer { server.kill() }
        let httpPort = try #require(server.metricsPort.map(UInt16.init))

        let queue = try JobQueue.connect(to: server.bootstrap, partitions: 1)
        for id in ["e1", "e2", "e3"] { try await queue.enqueue(Errand(name: id), key: "k", id: id) }
        try await queue.enqueue(Errand(name: "later"), key: "t", id: "later", runAt: Date().addingTimeInterval(86_400))
        _ = try await queue.cancel(id: "e3", topic: Errand.topic)
        await queue.transport.close()

        var refused = 0
        for state in JobState.allCases {
            for group: String? in [nil, "g", ""] {
                let words = ["jobs", "list", Errand.topic, "--state", state.rawValue, "--json"] + (group.map { ["--group", $0] } ?? [])
                let command = try await JobsCommandTests.spool(words + ["--broker", server.bootstrap])
                let query = "state=\(state.rawValue)&limit=500" + (group.map { "&group=\($0)" } ?? "")
                let reply = await blocking { httpRequest(port: httpPort, "GET", "/api/v1/jobs/\(Errand.topic)?\(query)") }
                let api = try #require(reply, "\(query)")
                let rule = Result { try state.listingGroup(group) }
                switch rule {
                case let .failure(error):
                    refused += 1
                    let message = "\(error)"
                    #expect(command.status == 64 && command.errors.hasPrefix("spool jobs list: \(message)\n"), "\(words): \(command.errors)")
                    #expect(api.errorStatus == 400, "\(query)")
                    #expect((api.json["error"] as? [String: Any])?["message"] as? String == message, "\(query)")
                case .success:
                    #expect(command.status == 0, "\(words): \(command.errors)")
                    #expect(api.status == 200, "\(query): \(api.json)")
                    let listed = try JSONDecoder.iso8601.decode([JobStatus].self, from: Data(command.output.utf8)).map(\.id)
                    let paged = (api.json["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                    #expect(listed == paged, "\(state) with group \(group ?? "none"): \(listed) from the command, \(paged) from the API")
                }
            }
        }
        // queued without a group or with an empty one; scheduled and cancelled with one.
        #expect(refused == 4)
    }
}
