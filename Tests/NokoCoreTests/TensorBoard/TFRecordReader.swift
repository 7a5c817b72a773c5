@testable import NokoCore

/// Reads TFRecord framing back and checks both checksums of every record, so Swift tests
/// can look inside event files without TensorBoard.
enum TFRecordReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Record {
        /// Where the record starts in the file.
        let offset: Int
        /// The record's total size: header, payload and footer.
        let size: Int
        let payload: [UInt8]
    }

    /// Every record; throws on a bad checksum or a torn end.
    static func records(in bytes: [UInt8]) throws -> [Record] {
        var records: [Record] = []
        var offset = 0
        func littleEndian(_ start: Int, _ count: Int) -> UInt64 {
            (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) }
        }
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw Failure(description: "torn header at \(offset)") }
            let length = Int(littleEndian(offset, 8))
            guard CRC32C.masked(CRC32C.checksum(bytes[offset..<offset + 8])) == UInt32(littleEndian(offset + 8, 4))
            else { throw Failure(description: "bad length checksum at \(offset)") }
            let payloadStart = offset + 12
            guard bytes.count - payloadStart >= length + 4 else { throw Failure(description: "torn record at \(offset)") }
            let payload = Array(bytes[payloadStart..<payloadStart + length])
            guard CRC32C.masked(CRC32C.checksum(payload)) == UInt32(littleEndian(payloadStart + length, 4))
            else { throw Failure(description: "bad payload checksum at \(offset)") }
            records.append(Record(offset: offset, size: 16 + length, payload: payload))
            offset = payloadStart + length + 4
        }
        return records
    }
}
