import SpoolFormat
import Testing

@Suite struct ConsumerProtocolTests {
    @Test func subscriptionRoundTripsAndMatchesKafkasBytes() throws {
        let subscription = ConsumerProtocol.Subscription(topics: ["emails", "images"], userData: nil)
        let bytes = ConsumerProtocol.encode(subscription)
        // version 0, 2 topics, "emails", "images", null user data
        #expect(bytes == [0, 0, 0, 0, 0, 2, 0, 6] + Array("emails".utf8) + [0, 6] + Array("images".utf8) + [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try ConsumerProtocol.decodeSubscription(bytes) == subscription)
    }

    @Test func assignmentRoundTrips() throws {
        let assignment = ConsumerProtocol.Assignment(partitions: [("emails", [0, 2, 4]), ("images", [1])], userData: [9])
        #expect(try ConsumerProtocol.decodeAssignment(ConsumerProtocol.encode(assignment)) == assignment)
        #expect(try ConsumerProtocol.decodeAssignment([]) == ConsumerProtocol.Assignment(partitions: []))
    }

    @Test func laterVersionsAreReadForTheFieldsSpoolKnows() throws {
        // Version 1 subscription with owned partitions, as librdkafka's cooperative-sticky sends.
        var bytes: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 1, UInt8(ascii: "t"), 0xFF, 0xFF, 0xFF, 0xFF]
        bytes += [0, 0, 0, 1, 0, 1, UInt8(ascii: "t"), 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 5]
        bytes += [0, 0, 0, 7]  // generation id (version 2+), ignored
        let subscription = try ConsumerProtocol.decodeSubscription(bytes)
        #expect(subscription.topics == ["t"])
        #expect(subscription.ownedPartitions == ["t": [3, 5]])
    }

    @Test func hostileLengthsAreRejected() {
        #expect(throws: FormatError.self) { try ConsumerProtocol.decodeSubscription([0, 0, 0x7F, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: FormatError.self) { try ConsumerProtocol.decodeSubscription([0, 0, 0, 0, 0, 1, 0x7F, 0xFF]) }
        #expect(throws: FormatError.self) { try ConsumerProtocol.decodeAssignment([0, 0, 0, 0, 0, 1, 0, 1, 0x41, 0x7F, 0, 0, 0]) }
        #expect(throws: FormatError.self) { try ConsumerProtocol.decodeAssignment([0]) }
    }
}
