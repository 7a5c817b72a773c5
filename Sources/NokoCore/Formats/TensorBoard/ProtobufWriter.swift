/// Appends protocol buffer wire format to a byte buffer.
///
/// Just enough of the encoding for TensorBoard's few messages, so NokoCore needs no
/// protobuf library: varints, little-endian fixed-width numbers, field keys and
/// length-delimited fields. Callers follow proto3's rule of omitting a singular field
/// that holds its default value, except for fields inside a `oneof`, whose presence matters.
struct ProtobufWriter {
    /// The wire types a field key announces.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    /// The bytes written so far.
    var bytes: [UInt8]

    /// An empty writer; `capacity` pre-sizes the buffer.
    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// How many bytes the varint encoding of `value` takes (1 to 10).
    static func varintSize(_ value: UInt64) -> Int {
        // Seven payload bits per byte; zero still takes one byte.
        let significantBits = 64 - (value | 1).leadingZeroBitCount
        return (significantBits + 6) / 7
    }

    /// How many bytes a length-delimited field's key and length prefix take before its payload.
    static func lengthDelimitedOverhead(field: Int, payloadCount: Int) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(UInt64(payloadCount))
    }

    /// Appends a base-128 varint.
    mutating func writeVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// Appends a field key: the field number and the wire type of what follows.
    mutating func writeKey(field: Int, _ wireType: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// Appends four bytes, least significant first.
    mutating func writeFixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends eight bytes, least significant first.
    mutating func writeFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `double` field.
    mutating func writeDouble(field: Int, _ value: Double) {
        writeKey(field: field, .fixed64)
        writeFixed64(value.bitPattern)
    }

    /// A `float` field.
    mutating func writeFloat(field: Int, _ value: Float) {
        writeKey(field: field, .fixed32)
        writeFixed32(value.bitPattern)
    }

    /// An `int64` field; negative values take ten bytes, as the wire format requires.
    mutating func writeInt64(field: Int, _ value: Int64) {
        writeKey(field: field, .varint)
        writeVarint(UInt64(bitPattern: value))
    }

    /// An `int32` or `enum` field; negative values are sign-extended to ten bytes.
    mutating func writeInt32(field: Int, _ value: Int32) {
        writeInt64(field: field, Int64(value))
    }

    /// A `bool` field.
    mutating func writeBool(field: Int, _ value: Bool) {
        writeKey(field: field, .varint)
        bytes.append(value ? 1 : 0)
    }

    /// A `bytes` field, or an embedded message already encoded.
    mutating func writeBytes(field: Int, _ payload: some Collection<UInt8>) {
        writeKey(field: field, .lengthDelimited)
        writeVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    /// A `string` field, as UTF-8.
    mutating func writeString(field: Int, _ value: String) {
        writeBytes(field: field, value.utf8)
    }

    /// An embedded message, encoded by `body` into its own writer first so its length is known.
    mutating func writeMessage(field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        writeBytes(field: field, inner.bytes)
    }
}
