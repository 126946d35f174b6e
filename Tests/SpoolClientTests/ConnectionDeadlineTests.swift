import Testing
@testable import SpoolClient

/// Each request's deadline is a timer that its answer cancels: none outlives its request.
@Suite struct ConnectionDeadlineTests {
    @Test func answeredRequestsLeaveNoDeadlineArmed() async throws {
        let server = try ClientTestServer()
        defer { server.stop() }
        let client = try server.client()
        defer { client.close() }
        for _ in 0..<50 { _ = try await client.metadata(topics: []) }
        let connection = try await client.anyConnection()
        #expect(connection.armedDeadlines.load(ordering: .relaxed) == 0)
    }
}
