@testable import SpoolBroker
import Testing

/// The delivered origins a resend is checked against are kept for their window and no longer:
/// memory stays bounded, and the delay log keeps only the segments of origins still known.
@Suite struct DeliveredOriginsTests {
    private func origin(_ sequence: Int32) -> DelayStore.PlacedOrigin {
        DelayStore.PlacedOrigin(topic: "jobs", partition: 0, topicId: "id", origin: DelayStore.Origin(producerId: 7, epoch: 0, sequence: sequence))
    }

    @Test func originsOlderThanTheCutoffAreForgottenWithTheirOffsets() {
        var delivered = DeliveredOrigins()
        delivered.insert(origin(0), offset: 10, atMs: 1_000)
        delivered.insert(origin(1), offset: 4, atMs: 2_000)
        delivered.insert(origin(2), offset: 12, atMs: 3_000)
        #expect(delivered.oldestOffset == 4)
        delivered.expire(before: 2_500)
        #expect(!delivered.contains(origin(0)) && !delivered.contains(origin(1)) && delivered.contains(origin(2)))
        #expect(delivered.count == 1 && delivered.oldestOffset == 12)
    }

    @Test func anOriginDeliveredAgainCountsFromItsLaterDelivery() {
        var delivered = DeliveredOrigins()
        delivered.insert(origin(0), offset: 1, atMs: 1_000)
        delivered.insert(origin(0), offset: 5, atMs: 5_000)
        delivered.expire(before: 2_000)
        #expect(delivered.contains(origin(0)), "its first delivery's expiry forgot it")
        #expect(delivered.oldestOffset == 5)
        delivered.expire(before: 6_000)
        #expect(delivered.count == 0 && delivered.oldestOffset == nil)
    }
}
