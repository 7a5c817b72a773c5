import Testing

@testable import NokoCore

@Suite struct TFRecordWriterTests {
    @Test func framesAPayloadAsTensorBoardsRecordWriterDoes() {
        // tensorboard.summary.writer.record_writer.RecordWriter().write(b"hello").
        var writer = TFRecordWriter()
        writer.appendRecord(Array("hello".utf8))
        #expect(
            writer.bytes == [
                0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xEA, 0xB2, 0x04, 0x3E,
                0x68, 0x65, 0x6C, 0x6C, 0x6F, 0xBB, 0x1F, 0x1C, 0x19,
            ])
        #expect(writer.recordCount == 1)
    }

    @Test func inPlaceEncodingEqualsFramingACopy() {
        var copied = TFRecordWriter()
        var inPlace = TFRecordWriter()
        for length in [0, 1, 7, 8, 9, 127, 128, 1000] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            copied.appendRecord(payload)
            inPlace.appendRecord { $0.bytes.append(contentsOf: payload) }
        }
        #expect(copied.bytes == inPlace.bytes)
        #expect(copied.recordCount == 8)
        let records = try? TFRecordReader.records(in: inPlace.bytes)
        #expect(records?.map(\.payload.count) == [0, 1, 7, 8, 9, 127, 128, 1000])
    }

    @Test func removeAllEmptiesTheBuffer() {
        var writer = TFRecordWriter()
        writer.appendRecord([1, 2, 3])
        writer.removeAll()
        #expect(writer.bytes.isEmpty)
        #expect(writer.recordCount == 0)
    }

    @Test func readerRejectsACorruptedRecord() {
        var writer = TFRecordWriter()
        writer.appendRecord([1, 2, 3])
        var corrupted = writer.bytes
        corrupted[13] ^= 0x40
        #expect(throws: TFRecordReader.Failure.self) { try TFRecordReader.records(in: corrupted) }
    }
}
