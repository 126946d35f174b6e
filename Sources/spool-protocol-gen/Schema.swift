import Foundation

/// A field's type in a schema.
indirect enum FieldType: Equatable {
    case bool, int8, int16, int32, int64, uint16, uint32, float64, uuid, string, bytes, records
    case array(FieldType)
    case structure(String)

    init(parsing text: String, in context: String) throws {
        if text.hasPrefix("[]") {
            self = .array(try FieldType(parsing: String(text.dropFirst(2)), in: context))
            return
        }
        switch text {
        case "bool": self = .bool
        case "int8": self = .int8
        case "int16": self = .int16
        case "int32": self = .int32
        case "int64": self = .int64
        case "uint16": self = .uint16
        case "uint32": self = .uint32
        case "float64": self = .float64
        case "uuid": self = .uuid
        case "string": self = .string
        case "bytes": self = .bytes
        case "records": self = .records
        default:
            guard let first = text.first, first.isUppercase else { throw GeneratorError("\(context): unknown type '\(text)'") }
            self = .structure(text)
        }
    }

    var isArray: Bool { if case .array = self { true } else { false } }
}

/// One field of a message or struct, as the schema gives it.
struct Field {
    var name: String
    var type: FieldType
    var versions: Versions
    var nullableVersions: Versions
    var taggedVersions: Versions
    var tag: Int?
    var defaultValue: String?
    var about: String
    /// A field-level override of the message's flexible versions (RequestHeader's ClientId).
    var flexibleVersions: Versions?
    /// The fields of the struct this field declares inline, if any.
    var fields: [Field]?
}

/// A struct declared in a schema: inline in a field, or in `commonStructs`.
struct StructDeclaration {
    var name: String
    var fields: [Field]
}

/// One schema file: a request, a response or a header.
struct MessageSchema {
    var name: String
    var kind: String
    var apiKey: Int?
    var validVersions: Versions
    var flexibleVersions: Versions
    var latestVersionUnstable: Bool
    var fields: [Field]
    var commonStructs: [StructDeclaration]
    var file: String

    /// Reads a schema: JSON with `//` comments, as Kafka keeps them.
    init(contentsOf url: URL) throws {
        file = url.lastPathComponent
        let text = try String(contentsOf: url, encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: Data(Self.strippingComments(text).utf8))
        guard let object = json as? [String: Any] else { throw GeneratorError("\(file): not a JSON object") }
        guard let name = object["name"] as? String, let kind = object["type"] as? String else {
            throw GeneratorError("\(file): no name or type")
        }
        self.name = name
        self.kind = kind
        apiKey = object["apiKey"] as? Int
        validVersions = try Versions(parsing: object["validVersions"] as? String ?? "none", in: file)
        flexibleVersions = try Versions(parsing: object["flexibleVersions"] as? String ?? "none", in: file)
        latestVersionUnstable = object["latestVersionUnstable"] as? Bool ?? false
        fields = try Self.fields(object["fields"], in: "\(file) \(name)")
        let fileName = file
        commonStructs = try (object["commonStructs"] as? [[String: Any]] ?? []).map { entry in
            guard let structName = entry["name"] as? String else { throw GeneratorError("\(fileName): a common struct without a name") }
            return StructDeclaration(name: structName, fields: try Self.fields(entry["fields"], in: "\(fileName) \(structName)"))
        }
    }

    private static func fields(_ value: Any?, in context: String) throws -> [Field] {
        guard let list = value as? [[String: Any]] else { return [] }
        return try list.map { entry in
            guard let name = entry["name"] as? String, let type = entry["type"] as? String else {
                throw GeneratorError("\(context): a field without a name or type")
            }
            let where_ = "\(context).\(name)"
            let versions = try Versions(parsing: entry["versions"] as? String ?? "none", in: where_)
            let tagged = try (entry["taggedVersions"] as? String).map { try Versions(parsing: $0, in: where_) }
            return Field(
                name: name,
                type: try FieldType(parsing: type, in: where_),
                versions: versions,
                nullableVersions: try Versions(parsing: entry["nullableVersions"] as? String ?? "none", in: where_),
                taggedVersions: tagged ?? .none,
                tag: entry["tag"] as? Int,
                defaultValue: (entry["default"] as? String) ?? (entry["default"] as? NSNumber)?.stringValue,
                about: entry["about"] as? String ?? "",
                flexibleVersions: try (entry["flexibleVersions"] as? String).map { try Versions(parsing: $0, in: where_) },
                fields: entry["fields"] == nil ? nil : try fields(entry["fields"], in: where_))
        }
    }

    /// Removes `//` comments outside strings.
    static func strippingComments(_ text: String) -> String {
        var output = ""
        var inString = false
        var escaped = false
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if inString {
                output.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            if character == "\"" {
                inString = true
                output.append(character)
            } else if character == "/" {
                let next = characters.next()
                if next == "/" {
                    while let skipped = characters.next(), skipped != "\n" {}
                    output.append("\n")
                } else {
                    output.append(character)
                    pending = next
                }
            } else {
                output.append(character)
            }
        }
        return output
    }
}
