/// Frames records the way TFRecord files (and so TensorBoard event files) store them.
///
/// Each record is its payload's length as a little-endian `UInt64`, the masked CRC-32C of
/// those eight bytes, the payload, and the masked CRC-32C of the payload. A reader that
/// meets a torn last record (a crash mid-write) stops there and keeps every record before it.
struct TFRecordWriter {
    /// Bytes before a record's payload: the length and its checksum.
    static let headerSize = 12
    /// Bytes after a record's payload: its checksum.
    static let footerSize = 4

    /// The framed records appended so far.
    private(set) var output: ProtobufWriter
    /// How many records ``output`` holds.
    private(set) var recordCount = 0

    /// An empty buffer; `capacity` pre-sizes it.
    init(capacity: Int = 4096) {
        output = ProtobufWriter(capacity: capacity)
    }

    /// The framed bytes.
    var bytes: [UInt8] { output.bytes }

    /// Appends a record holding `payload`.
    mutating func appendRecord(_ payload: some Collection<UInt8>) {
        appendRecord { $0.bytes.append(contentsOf: payload) }
    }

    /// Appends a record whose payload `encodePayload` writes straight into the buffer, so a
    /// message is encoded once, in place, with no intermediate copy.
    mutating func appendRecord(_ encodePayload: (inout ProtobufWriter) -> Void) {
        let headerStart = output.bytes.count
        output.bytes.append(contentsOf: repeatElement(0, count: Self.headerSize))
        encodePayload(&output)
        let payloadStart = headerStart + Self.headerSize
        let payloadCount = output.bytes.count - payloadStart
        let payloadChecksum = output.bytes.withUnsafeMutableBytes { buffer -> UInt32 in
            let header = UnsafeMutableRawBufferPointer(rebasing: buffer[headerStart..<payloadStart])
            header.storeBytes(of: UInt64(payloadCount).littleEndian, toByteOffset: 0, as: UInt64.self)
            let lengthChecksum = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<8])))
            header.storeBytes(of: lengthChecksum.littleEndian, toByteOffset: 8, as: UInt32.self)
            return CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[payloadStart...])))
        }
        output.writeFixed32(payloadChecksum)
        recordCount += 1
    }

    /// Empties the buffer, keeping its capacity.
    mutating func removeAll() {
        output.bytes.removeAll(keepingCapacity: true)
        recordCount = 0
    }
}
