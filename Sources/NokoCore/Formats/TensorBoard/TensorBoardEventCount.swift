import NokoPlatform

/// Counts the scalar events of event files, as far as their records are whole: one per row
/// ``TensorBoardOutput`` wrote, which is how a resumed run knows which rows the event files
/// of its earlier processes lack.
package enum TensorBoardEventCount {
    /// Scalar events (an `Event` whose summary's first value is a `simple_value`) in the file
    /// at `path`; the file-version record and the HParams summaries are not rows. Stops at
    /// the first record that is torn or fails its checksum, as TensorBoard's reader does.
    package static func scalarEvents(inFile path: String) throws(NokoSystemError) -> Int {
        let file = try FileDescriptor.open(path, .read)
        defer { file.closeIgnoringErrors() }
        let size = try file.size()
        var offset: UInt64 = 0
        var count = 0
        var buffer: [UInt8] = []
        var bufferStart: UInt64 = 0
        // The bytes [offset, offset + length), read in large chunks; nil past the end.
        func bytes(at offset: UInt64, _ length: Int) throws(NokoSystemError) -> ArraySlice<UInt8>? {
            guard offset + UInt64(length) <= size else { return nil }
            if offset < bufferStart || offset + UInt64(length) > bufferStart + UInt64(buffer.count) {
                bufferStart = offset
                buffer = try file.read(count: max(length, 1 << 20), at: offset)
                guard buffer.count >= length else { return nil }
            }
            let start = Int(offset - bufferStart)
            return buffer[start..<(start + length)]
        }
        while let header = try bytes(at: offset, TFRecordWriter.headerSize) {
            let length = header.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length < size, let framed = try bytes(at: offset + UInt64(TFRecordWriter.headerSize), Int(length) + TFRecordWriter.footerSize)
            else { break }
            let payload = framed.dropLast(TFRecordWriter.footerSize)
            let stored = framed.suffix(TFRecordWriter.footerSize).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let checksum = payload.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0)) }
            guard checksum == stored else { break }
            if isScalarEvent(payload) { count += 1 }
            offset += UInt64(TFRecordWriter.headerSize) + length + UInt64(TFRecordWriter.footerSize)
        }
        return count
    }

    private static func isScalarEvent(_ event: ArraySlice<UInt8>) -> Bool {
        guard let summary = field(TensorBoardEvents.Event.summary, in: event),
            let value = field(TensorBoardEvents.Summary.value, in: summary)
        else { return false }
        var reader = FieldReader(value)
        while let (number, wireType, _) = reader.next() {
            if number == TensorBoardEvents.SummaryValue.simpleValue && wireType == 5 { return true }
        }
        return false
    }

    /// The first length-delimited field `number` of a message.
    private static func field(_ number: Int, in message: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var reader = FieldReader(message)
        while let (found, wireType, body) = reader.next() {
            if found == number && wireType == 2 { return body }
        }
        return nil
    }

    /// The fields of a protobuf message, in order; stops at anything malformed.
    private struct FieldReader {
        var rest: ArraySlice<UInt8>

        init(_ message: ArraySlice<UInt8>) { rest = message }

        mutating func next() -> (number: Int, wireType: Int, body: ArraySlice<UInt8>)? {
            guard let key = varint() else { return nil }
            let wireType = Int(key & 7)
            let body: ArraySlice<UInt8>
            switch wireType {
            case 0:
                guard varint() != nil else { return nil }
                body = []
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard rest.count >= width else { return nil }
                body = rest.prefix(width)
                rest = rest.dropFirst(width)
            case 2:
                guard let length = varint(), length <= UInt64(rest.count) else { return nil }
                body = rest.prefix(Int(length))
                rest = rest.dropFirst(Int(length))
            default:
                return nil
            }
            return (Int(key >> 3), wireType, body)
        }

        private mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = rest.first, shift < 64 {
                rest = rest.dropFirst()
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
    }
}
