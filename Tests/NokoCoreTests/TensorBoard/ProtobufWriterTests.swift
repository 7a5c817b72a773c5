import Testing

@testable import NokoCore

@Suite struct ProtobufWriterTests {
    private func bytes(_ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var writer = ProtobufWriter()
        body(&writer)
        return writer.bytes
    }

    @Test func varints() {
        // The examples of the protobuf encoding guide, and the edges of each byte count.
        #expect(bytes { $0.writeVarint(0) } == [0x00])
        #expect(bytes { $0.writeVarint(1) } == [0x01])
        #expect(bytes { $0.writeVarint(127) } == [0x7F])
        #expect(bytes { $0.writeVarint(128) } == [0x80, 0x01])
        #expect(bytes { $0.writeVarint(150) } == [0x96, 0x01])
        #expect(bytes { $0.writeVarint(300) } == [0xAC, 0x02])
        #expect(bytes { $0.writeVarint(16_383) } == [0xFF, 0x7F])
        #expect(bytes { $0.writeVarint(16_384) } == [0x80, 0x80, 0x01])
        #expect(bytes { $0.writeVarint(UInt64.max) } == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func varintSizeMatchesTheEncoding() {
        var values: [UInt64] = [0, 1, UInt64.max]
        for shift in 1..<64 {
            values.append((1 << UInt64(shift)) - 1)
            values.append(1 << UInt64(shift))
        }
        for value in values {
            #expect(ProtobufWriter.varintSize(value) == bytes { $0.writeVarint(value) }.count, "value \(value)")
        }
    }

    @Test func negativeIntegersTakeTenBytes() {
        #expect(bytes { $0.writeInt64(field: 2, -1) } == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        #expect(bytes { $0.writeInt32(field: 1, -2) } == [0x08, 0xFE] + [UInt8](repeating: 0xFF, count: 8) + [0x01])
        #expect(bytes { $0.writeInt64(field: 2, 42) } == [0x10, 0x2A])
    }

    @Test func fieldKeys() {
        #expect(bytes { $0.writeKey(field: 1, .fixed64) } == [0x09])
        #expect(bytes { $0.writeKey(field: 5, .lengthDelimited) } == [0x2A])
        #expect(bytes { $0.writeKey(field: 2, .fixed32) } == [0x15])
        // Field 16 needs a two-byte key.
        #expect(bytes { $0.writeKey(field: 16, .varint) } == [0x80, 0x01])
    }

    @Test func fixedWidthNumbersAreLittleEndian() {
        #expect(bytes { $0.writeFloat(field: 2, 0.5) } == [0x15, 0x00, 0x00, 0x00, 0x3F])
        #expect(bytes { $0.writeDouble(field: 1, 1_700_000_000.25) } == [0x09, 0x00, 0x00, 0x10, 0x40, 0xFC, 0x54, 0xD9, 0x41])
        #expect(bytes { $0.writeFixed32(0x0102_0304) } == [0x04, 0x03, 0x02, 0x01])
    }

    @Test func stringsBoolsAndNestedMessages() {
        #expect(bytes { $0.writeString(field: 2, "testing") } == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])
        #expect(bytes { $0.writeString(field: 1, "") } == [0x0A, 0x00])
        #expect(bytes { $0.writeBool(field: 4, false) } == [0x20, 0x00])
        #expect(bytes { $0.writeBool(field: 4, true) } == [0x20, 0x01])
        // The guide's nested example: message Test3 { Test1 c = 3; } with c.a = 150.
        #expect(bytes { $0.writeMessage(field: 3) { $0.writeInt64(field: 1, 150) } } == [0x1A, 0x03, 0x08, 0x96, 0x01])
        // A payload of 200 bytes needs a two-byte length.
        let long = bytes { $0.writeBytes(field: 1, [UInt8](repeating: 7, count: 200)) }
        #expect(Array(long.prefix(3)) == [0x0A, 0xC8, 0x01])
        #expect(long.count == 203)
    }

    @Test func lengthDelimitedOverhead() {
        #expect(ProtobufWriter.lengthDelimitedOverhead(field: 1, payloadCount: 10) == 2)
        #expect(ProtobufWriter.lengthDelimitedOverhead(field: 1, payloadCount: 200) == 3)
        #expect(ProtobufWriter.lengthDelimitedOverhead(field: 16, payloadCount: 200) == 4)
    }
}
