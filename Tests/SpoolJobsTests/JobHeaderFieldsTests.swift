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
        let fields = JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoice"), RecordHeader(SpoolHeaders.jobType, "Receipt"),
                                      RecordHeader(SpoolHeaders.jobId, "one"), RecordHeader(SpoolHeaders.jobId, "two")], expectedType: expected)
        #expect(!fields.wrongType)
        #expect(fields.id == "one")
    }

    @Test func theTypeIsKeptOnlyWhenItIsWrongOrNotCompared() {
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Invoice")], expectedType: expected).type == nil)
        #expect(JobHeaderFields([RecordHeader(SpoolHeaders.jobType, "Receipt")]).type == Array("Receipt".utf8))
        #expect(JobHeaderFields([RecordHeader(key: SpoolHeaders.jobType, value: nil)], expectedType: expected).type == nil)
    }

    @Test func theIdAttemptAndDeliveryTimeAreRead() {
        let fields = JobHeaderFields([RecordHeader(SpoolHeaders.jobId, "job-1"), RecordHeader(SpoolHeaders.attempt, "3"),
                                      RecordHeader(SpoolHeaders.deliverAt, "1700000000000"), RecordHeader("other", "x")])
        #expect(fields.id == "job-1")
        #expect(fields.attempt == 3)
        #expect(fields.deliverAtMs == 1_700_000_000_000)
        let unreadable = JobHeaderFields([RecordHeader(SpoolHeaders.attempt, "three"), RecordHeader(SpoolHeaders.deliverAt, "soon"),
                                          RecordHeader(key: SpoolHeaders.jobId, value: nil)])
        #expect(unreadable.attempt == nil)
        #expect(unreadable.deliverAtMs == nil)
        #expect(unreadable.id == nil)
    }
}
