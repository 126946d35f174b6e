// swift-tools-version:6.0
// Spool depends on the Swift toolchain alone: no package dependencies.
import PackageDescription

let package = Package(
    name: "Spool",
    products: [
        .library(name: "SpoolFormat", targets: ["SpoolFormat"]),
        .library(name: "SpoolLog", targets: ["SpoolLog"]),
        .library(name: "SpoolBroker", targets: ["SpoolBroker"]),
        .library(name: "SpoolClient", targets: ["SpoolClient"]),
        .library(name: "SpoolJobs", targets: ["SpoolJobs"]),
        .library(name: "SpoolEmbedded", targets: ["SpoolEmbedded"]),
        .executable(name: "spool", targets: ["spool"]),
    ],
    dependencies: [],
    targets: [
        .target(name: "CSpool"),
        .target(name: "SpoolSystem", dependencies: ["CSpool"]),
        .target(name: "SpoolFormat", dependencies: ["CSpool"]),
        .target(name: "SpoolLog", dependencies: ["SpoolFormat", "SpoolSystem"]),
        .target(name: "SpoolBroker", dependencies: ["SpoolLog", "SpoolFormat", "SpoolSystem"]),
        .target(name: "SpoolWire", dependencies: ["SpoolFormat"]),
        .target(name: "SpoolClient", dependencies: ["SpoolWire", "SpoolFormat", "SpoolSystem"]),
        // Jobs over a transport: the network one here, so that a worker of a remote broker or a
        // Kafka cluster links neither the log nor the broker.
        .target(name: "SpoolJobs", dependencies: ["SpoolClient", "SpoolFormat", "SpoolSystem"]),
        // Spool in-process: the broker in a directory, its consumer, and the jobs transport over it.
        .target(name: "SpoolEmbedded", dependencies: ["SpoolBroker", "SpoolClient", "SpoolJobs", "SpoolLog", "SpoolFormat", "SpoolSystem"]),
        .target(name: "SpoolServer", dependencies: ["SpoolWire", "SpoolBroker", "SpoolLog", "SpoolFormat", "SpoolSystem"]),
        // Generates Sources/SpoolWire/Generated from Kafka's JSON schemas (docs/protocol.md).
        .executableTarget(name: "spool-protocol-gen"),
        .executableTarget(name: "spool", dependencies: ["SpoolJobs", "SpoolEmbedded", "SpoolClient", "SpoolServer", "SpoolBroker", "SpoolLog", "SpoolFormat", "SpoolSystem"]),
        .executableTarget(
            name: "spool-bench",
            dependencies: ["SpoolJobs", "SpoolEmbedded", "SpoolServer", "SpoolWire", "SpoolBroker", "SpoolLog", "SpoolFormat", "SpoolSystem"],
            path: "Benchmarks/spool-bench"
        ),
        // The simulated disk and the power-cut scenario (docs/reliability.md), shared by the tests
        // and the long run.
        .target(
            name: "SpoolSimulation",
            dependencies: ["SpoolJobs", "SpoolEmbedded", "SpoolBroker", "SpoolLog", "SpoolFormat", "SpoolSystem"],
            path: "Tests/Simulation"
        ),
        .executableTarget(
            name: "spool-powercut",
            dependencies: ["SpoolSimulation"],
            path: "Benchmarks/spool-powercut"
        ),
        .executableTarget(
            name: "spool-crash-writer",
            dependencies: ["SpoolLog", "SpoolFormat"],
            path: "Tests/CrashWriter"
        ),
        .executableTarget(
            name: "spool-job-worker",
            dependencies: ["SpoolJobs"],
            path: "Tests/JobWorker"
        ),
        // libFuzzer targets (Fuzz/run.sh builds them with -sanitize=fuzzer and -D FUZZING); a plain
        // build makes them replay tools that run the files given as arguments.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "SpoolFuzzSupport", dependencies: ["CFuzzDriver", "SpoolWire", "SpoolFormat"], path: "Fuzz/Support"),
        .executableTarget(name: "spool-fuzz-request", dependencies: ["SpoolWire", "SpoolFormat", "SpoolFuzzSupport"], path: "Fuzz/request"),
        .executableTarget(name: "spool-fuzz-batch", dependencies: ["SpoolFormat", "SpoolFuzzSupport"], path: "Fuzz/batch"),
        .executableTarget(name: "spool-fuzz-router", dependencies: ["SpoolServer", "SpoolBroker", "SpoolFuzzSupport"], path: "Fuzz/router"),
        .testTarget(name: "SpoolFormatTests", dependencies: ["SpoolFormat"]),
        .testTarget(name: "SpoolSystemTests", dependencies: ["SpoolSystem", "SpoolTestSupport"]),
        // Fixtures/: frames recorded from real clients (Tests/Fixtures/capture.py), read by path.
        .testTarget(name: "SpoolWireTests", dependencies: ["SpoolWire", "SpoolFuzzSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["spool-fuzz-request", "spool-fuzz-batch", "spool-fuzz-router"], exclude: ["Inputs"]),
        .testTarget(name: "SpoolCLITests", dependencies: ["spool"]),
        .testTarget(name: "SpoolClientTests", dependencies: ["SpoolClient", "SpoolServer", "SpoolBroker", "SpoolEmbedded", "SpoolFormat", "SpoolWire"]),
        .testTarget(
            name: "SpoolServerTests",
            dependencies: ["SpoolServer", "SpoolWire", "SpoolBroker", "SpoolEmbedded", "SpoolFormat", "SpoolSystem", "SpoolFuzzSupport", "SpoolTestSupport", "SpoolJobs", "spool"],
            exclude: []
        ),
        // Test helpers more than one test target uses (a fault-injecting FileSystem).
        .target(name: "SpoolTestSupport", dependencies: ["SpoolSystem"], path: "Tests/SpoolTestSupport"),
        .testTarget(name: "SpoolJobsTests", dependencies: ["SpoolJobs", "SpoolEmbedded", "SpoolBroker", "SpoolServer", "SpoolFormat", "SpoolSystem", "SpoolTestSupport"]),
        .testTarget(name: "SpoolBrokerTests", dependencies: ["SpoolBroker", "SpoolEmbedded", "SpoolClient", "SpoolLog", "SpoolFormat", "SpoolSystem", "SpoolTestSupport"]),
        .testTarget(name: "SpoolSimulationTests", dependencies: ["SpoolSimulation", "SpoolBroker", "SpoolLog", "SpoolFormat", "SpoolSystem"]),
        .testTarget(
            name: "SpoolLogTests",
            dependencies: ["SpoolLog", "SpoolFormat", "SpoolSystem", "SpoolTestSupport", "spool-crash-writer"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
