/// Encodes Thrift structs with the compact protocol: the parts Parquet's metadata uses
/// (structs, booleans, i32/i64 as zigzag varints, binary strings, lists).
///
/// Field identifiers are written as deltas from the previous field of the same struct, so
/// fields must be written in increasing id order within a struct; ``writeStruct(field:_:)``
/// and ``writeListElementStruct(_:)`` keep a separate "last id" per nesting level.
struct ThriftCompactWriter {
    /// The encoded bytes so far.
    private(set) var bytes: [UInt8]
    private var lastFieldID: Int16 = 0
    private var enclosingFieldIDs: [Int16] = []

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Fields

    mutating func writeI32(field: Int16, _ value: Int32) {
        writeFieldHeader(field, .i32)
        writeVarint(UInt64(ThriftCompactWriter.zigzag(Int64(value))))
    }

    mutating func writeI64(field: Int16, _ value: Int64) {
        writeFieldHeader(field, .i64)
        writeVarint(ThriftCompactWriter.zigzag(value))
    }

    mutating func writeBool(field: Int16, _ value: Bool) {
        writeFieldHeader(field, value ? .booleanTrue : .booleanFalse)
    }

    mutating func writeString(field: Int16, _ value: String) {
        writeFieldHeader(field, .binary)
        writeBinaryValue(value)
    }

    /// A struct-valued field; `body` writes the struct's fields.
    mutating func writeStruct(field: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        writeFieldHeader(field, .structure)
        writeStructValue(body)
    }

    /// The header of a list field; the caller then writes exactly `count` elements with the
    /// element writers below.
    mutating func writeListHeader(field: Int16, elementType: ThriftCompactType, count: Int) {
        writeFieldHeader(field, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    // MARK: - List elements

    mutating func writeListElementI32(_ value: Int32) {
        writeVarint(UInt64(ThriftCompactWriter.zigzag(Int64(value))))
    }

    mutating func writeListElementString(_ value: String) {
        writeBinaryValue(value)
    }

    mutating func writeListElementStruct(_ body: (inout ThriftCompactWriter) -> Void) {
        writeStructValue(body)
    }

    /// Appends bytes that are already a complete encoding of one list element (a cached
    /// struct encoding, for instance).
    mutating func writeListElementEncoded(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    /// Ends the top-level struct. Nested structs end themselves.
    mutating func writeStop() {
        bytes.append(ThriftCompactType.stop.rawValue)
    }

    // MARK: - Primitives

    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func writeFieldHeader(_ field: Int16, _ type: ThriftCompactType) {
        let delta = Int(field) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeVarint(ThriftCompactWriter.zigzag(Int64(field)))
        }
        lastFieldID = field
    }

    private mutating func writeBinaryValue(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    private mutating func writeStructValue(_ body: (inout ThriftCompactWriter) -> Void) {
        enclosingFieldIDs.append(lastFieldID)
        lastFieldID = 0
        body(&self)
        bytes.append(ThriftCompactType.stop.rawValue)
        lastFieldID = enclosingFieldIDs.removeLast()
    }
}
