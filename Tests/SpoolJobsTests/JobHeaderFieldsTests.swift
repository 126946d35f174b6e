import SpoolFormat
@testable import SpoolJobs
import Testing

/// The Spool headers a worker reads when it takes a job in, and the type check made there.
@Suite struct JobHeaderFieldsTests {
    let expected = Array("Invoice".utf8)

    @Test func aTypeOtherThanTheExpectedOneIsMarkedWrong() {
        let fields = JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Receipt")], expectedType: expected)
        #expect(fields.wrongType)
        #expect(fields.type == Array("Receipt".utf8), "the type is kept for the dead letter's reason")
    }

    @Test func theExpectedTypeANullOneOrNoneIsNotWrong() {
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoice")], expectedType: expected).wrongType)
        #expect(!JobHeaderFields([RecordHeader(key: SpoolHeaders.jobType, value: nil)], expectedType: expected).wrongType)
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.jobId, "a")], expectedType: expected).wrongType)
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Receipt")]).wrongType, "no expected type: nothing is compared")
    }

    @Test func aRetryOfAnotherGroupIsMarked() {
        let readers = Array("mailers".utf8)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.group, "auditors")], group: readers).otherGroup)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.group, "mailer")], group: readers).otherGroup, "a prefix is another group")
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.group, "mailers")], group: readers).otherGroup)
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.jobId, "a")], group: readers).otherGroup, "no group header: every group's")
        #expect(!JobHeaderFields([RecordHeader(SpoolHeaders.group, "auditors")]).otherGroup, "no reader's group: nothing is compared")
    }

    @Test func aTypeThatOnlySharesAPrefixIsWrong() {
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoice2")], expectedType: expected).wrongType)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoic")], expectedType: expected).wrongType)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "")], expectedType: expected).wrongType)
    }

    @Test func theFirstHeaderOfANameCounts() {
        let record = Self.record([RecordHeader(SpoolHeaders.jobType, "Invoice"), RecordHeader(SpoolHeaders.jobType, "Receipt"),
                                  RecordHeader(SpoolHeaders.jobId, "one"), RecordHeader(SpoolHeaders.jobId, "two")])
        let fields = JobHeaderFields(record, expectedType: expected)
        #expect(!fields.wrongType)
        #expect(fields.id(in: record) == "one")
    }

    @Test func theTypeIsKeptOnlyWhenItIsWrongOrNotCompared() {
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoice")], expectedType: expected).type == nil)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Receipt")]).type == Array("Receipt".utf8))
        #expect(JobHeaderFields([RecordHeader(key: SpoolHeaders.jobType, value: nil)], expectedType: expected).type == nil)
    }

    @Test func theIdAttemptAndDeliveryTimeAreRead() {
        let record = Self.record([RecordHeader("other", "x"), RecordHeader(SpoolHeaders.jobId, "job-1"), RecordHeader(SpoolHeaders.attempt, "3"),
                                  RecordHeader(SpoolHeaders.deliverAt, "1700000000000")])
        let fields = JobHeaderFields(record)
        #expect(fields.id(in: record) == "job-1")
        #expect(fields.attempt == 3)
        #expect(fields.deliverAtMs == 1_700_000_000_000)
        let unreadable = JobHeaderFields([RecordHeader(SpoolHeaders.attempt, "three"), RecordHeader(SpoolHeaders.deliverAt, "soon"),
                                          RecordHeader(key: SpoolHeaders.jobId, value: nil)])
        #expect(unreadable.attempt == nil)
        #expect(unreadable.deliverAtMs == nil)
        #expect(unreadable.idSpan == nil)
    }

    @Test func theNamesAreSpoolsHeaderNames() {
        #expect(JobHeaderFields.namesMatchSpoolHeaders)
        // A name of a read header's length that differs in a byte is not that header.
        #expect(JobHeaderFields([RecordHeader("spool-job-iD", "x")]).idSpan == nil)
        #expect(JobHeaderFields([RecordHeader("spool-attemp", "2"), RecordHeader("spool-attempts", "2")]).attempt == nil)
    }

    @Test func anAttemptIsReadAsIntReadsIt() {
        for text in ["1", "007", "+4", "-2", "", "1.5", " 3", "123456789012345678", "1234567890123456789", "99999999999999999999", "٣"] {
            let bytes = Array(text.utf8)
            let read = bytes.withUnsafeBytes { JobHeaderFields.attempt($0) }
            #expect(read == Int(text), "\(text)")
            #expect(JobHeaderFields([RecordHeader(SpoolHeaders.attempt, text)]).attempt == Int(text), "\(text)")
        }
    }

    /// A record with these headers, as the worker reads them.
    static func record(_ headers: [RecordHeader]) -> BatchRecord {
        BatchRecord(ConsumedRecord(topic: "", partition: 0, offset: 0, timestamp: 0, key: nil, value: nil, headers: headers))
    }
}
