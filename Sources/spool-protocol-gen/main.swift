import Foundation

// spool-protocol-gen SCHEMA_DIR OUTPUT_DIR
//
// Generates Spool's Kafka protocol codec (Sources/SpoolWire/Generated) from Kafka's JSON message
// schemas: one Swift file per request, response and header schema in `Catalogue`, plus the
// `ApiKey` table and `AnyRequest`. The output depends on the schemas alone, so CI regenerates it
// and fails on any difference from what is committed.

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: spool-protocol-gen SCHEMA_DIR OUTPUT_DIR\n".utf8))
    exit(64)
}
let schemaDirectory = URL(fileURLWithPath: arguments[1], isDirectory: true)
let outputDirectory = URL(fileURLWithPath: arguments[2], isDirectory: true)

do {
    var files: [String: String] = [:]
    var requests: [(MessageSchema, Versions)] = []
    for api in Catalogue.apis {
        for kind in ["Request", "Response"] {
            let schema = try MessageSchema(contentsOf: schemaDirectory.appendingPathComponent("\(api)\(kind).json"))
            let emitter = try MessageEmitter(schema: schema)
            files["\(schema.name).swift"] = emitter.emit(conformance: kind == "Request" ? "KafkaRequest" : "KafkaMessage", header: [])
            if kind == "Request" { requests.append((schema, emitter.versions)) }
        }
    }
    for name in Catalogue.headers {
        let schema = try MessageSchema(contentsOf: schemaDirectory.appendingPathComponent("\(name).json"))
        files["\(schema.name).swift"] = try MessageEmitter(schema: schema).emit(conformance: "KafkaMessage", header: [])
    }
    files["ApiKey.swift"] = ApiTableEmitter(requests: requests).emitApiKey()
    files["AnyRequest.swift"] = ApiTableEmitter(requests: requests).emitAnyRequest()

    let manager = FileManager.default
    try manager.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
    for existing in try manager.contentsOfDirectory(atPath: outputDirectory.path) where existing.hasSuffix(".swift") && files[existing] == nil {
        try manager.removeItem(at: outputDirectory.appendingPathComponent(existing))
    }
    for (name, text) in files.sorted(by: { $0.key < $1.key }) {
        let url = outputDirectory.appendingPathComponent(name)
        if (try? String(contentsOf: url, encoding: .utf8)) != text { try text.write(to: url, atomically: true, encoding: .utf8) }
    }
    print("spool-protocol-gen: \(files.count) files in \(outputDirectory.path)")
} catch {
    FileHandle.standardError.write(Data("spool-protocol-gen: \(error)\n".utf8))
    exit(1)
}
