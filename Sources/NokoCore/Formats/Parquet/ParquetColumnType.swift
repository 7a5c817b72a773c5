/// The type of a column in a Parquet file noko writes, and the rule for keys whose type changes.
///
/// Each ``Scalar`` case has a column type: `.bool` → BOOLEAN, `.int` → INT64, `.double` →
/// DOUBLE, `.string` → BYTE_ARRAY annotated UTF8/STRING. A Parquet column has one type for the
/// whole file, so when a key's values change type the column takes the *wider* of the two in
/// the order boolean < int64 < double < string, and values are converted: `false`/`true`
/// become 0/1, integers become doubles (exact up to 2^53), and anything becomes its text as
/// `Scalar.description` writes it (`"true"`, `"3"`, `"0.25"`, `"NaN"`). The output rewrites the
/// row groups already in the file so the whole file keeps one type, and warns once per change.
package enum ParquetColumnType: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case boolean = 0
    case int64 = 1
    case double = 2
    case string = 3

    /// The type of a non-null scalar; nil for `.null`.
    package init?(of scalar: Scalar) {
        switch scalar {
        case .null: return nil
        case .bool: self = .boolean
        case .int: self = .int64
        case .double: self = .double
        case .string: self = .string
        }
    }

    /// The narrowest type that holds values of both types.
    package func joined(with other: ParquetColumnType) -> ParquetColumnType { max(self, other) }

    package static func < (lhs: ParquetColumnType, rhs: ParquetColumnType) -> Bool { lhs.rawValue < rhs.rawValue }

    package var description: String {
        switch self {
        case .boolean: return "boolean"
        case .int64: return "int64"
        case .double: return "double"
        case .string: return "string"
        }
    }

    var physicalType: ParquetPhysicalType {
        switch self {
        case .boolean: return .boolean
        case .int64: return .int64
        case .double: return .double
        case .string: return .byteArray
        }
    }

    /// The schema element of a nullable column of this type.
    func schemaElement(name: String) -> ParquetSchemaElement {
        var element = ParquetSchemaElement(
            type: physicalType.rawValue, repetition: ParquetRepetition.optional.rawValue, name: name)
        if self == .string {
            element.convertedType = parquetConvertedTypeUTF8
            element.logicalType = parquetLogicalTypeStringField
        }
        return element
    }

    /// The column type of a schema element noko writes, or nil when the element is something
    /// else (another physical type, a required column, an annotation noko doesn't write).
    init?(writtenBy element: ParquetSchemaElement) {
        guard element.repetition == ParquetRepetition.optional.rawValue, (element.numChildren ?? 0) == 0,
            let raw = element.type, let physical = ParquetPhysicalType(rawValue: raw)
        else { return nil }
        switch physical {
        case .boolean: self = .boolean
        case .int64: self = .int64
        case .double: self = .double
        case .byteArray where element.convertedType == parquetConvertedTypeUTF8 || element.logicalType == parquetLogicalTypeStringField:
            self = .string
        default: return nil
        }
    }

    /// A bit per type, for sets of the types seen in a column.
    var bit: UInt8 { 1 << UInt8(rawValue) }
}

/// A small set of column types, as a bit mask.
struct ParquetColumnTypeSet: Equatable {
    var bits: UInt8 = 0

    var isEmpty: Bool { bits == 0 }
    mutating func insert(_ type: ParquetColumnType) { bits |= type.bit }
    func contains(_ type: ParquetColumnType) -> Bool { bits & type.bit != 0 }
    mutating func formUnion(_ other: ParquetColumnTypeSet) { bits |= other.bits }
    /// The widest member, which every member converts to.
    var joined: ParquetColumnType? { ParquetColumnType.allCases.last { contains($0) } }
    var members: [ParquetColumnType] { ParquetColumnType.allCases.filter { contains($0) } }
}
