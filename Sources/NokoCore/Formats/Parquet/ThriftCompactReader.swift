/// Decodes Thrift's compact protocol from a byte buffer, as Parquet's footer and page headers
/// are stored. Every read is bounds-checked: a truncated or corrupt buffer throws
/// ``ThriftDecodingError`` instead of trapping, so tolerant readers can try candidate footers.
struct ThriftCompactReader {
    private let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    private(set) var position: Int
    private var lastFieldID: Int16 = 0
    private var enclosingFieldIDs: [Int16] = []
    /// A boolean field's value travels in its header; it is kept here until read.
    private var pendingBool: Bool?

    /// Nesting deeper than this is treated as corruption (and bounds the recursion of ``skip(_:)``).
    private static let maximumDepth = 64

    /// Reads from `bytes`, which must outlive the reader.
    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    // MARK: - Structs

    /// The next field of the current struct, or nil at its end.
    mutating func readFieldHeader() throws(ThriftDecodingError) -> (id: Int16, type: ThriftCompactType)? {
        let header = try readByte()
        guard let type = ThriftCompactType(rawValue: header & 0x0F) else {
            throw ThriftDecodingError("unknown field type \(header & 0x0F) at byte \(position - 1)")
        }
        if type == .stop { return nil }
        let delta = Int16(header >> 4)
        let id: Int16
        if delta == 0 {
            let raw = ThriftCompactReader.unzigzag(try readVarint())
            guard let narrowed = Int16(exactly: raw) else { throw ThriftDecodingError("field id \(raw) out of range") }
            id = narrowed
        } else {
            id = lastFieldID &+ delta
        }
        lastFieldID = id
        switch type {
        case .booleanTrue: pendingBool = true
        case .booleanFalse: pendingBool = false
        default: pendingBool = nil
        }
        return (id, type)
    }

    /// Enters a nested struct (a struct field or a list element).
    mutating func beginStruct() throws(ThriftDecodingError) {
        guard enclosingFieldIDs.count < ThriftCompactReader.maximumDepth else {
            throw ThriftDecodingError("structs nested too deeply")
        }
        enclosingFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Leaves a nested struct after ``readFieldHeader()`` returned nil.
    mutating func endStruct() {
        lastFieldID = enclosingFieldIDs.popLast() ?? 0
    }

    /// Reads a whole nested struct, handing each field to `field`, which must consume the
    /// field's value (or call ``skip(_:)``).
    mutating func readStruct(
        _ field: (inout ThriftCompactReader, Int16, ThriftCompactType) throws(ThriftDecodingError) -> Void
    ) throws(ThriftDecodingError) {
        try beginStruct()
        while let (id, type) = try readFieldHeader() {
            try field(&self, id, type)
        }
        endStruct()
    }

    // MARK: - Values

    /// The value of a boolean field whose header was just read.
    mutating func readBool(_ type: ThriftCompactType) throws(ThriftDecodingError) -> Bool {
        if let pendingBool {
            self.pendingBool = nil
            return pendingBool
        }
        // Inside lists, booleans are one byte each.
        guard type == .booleanTrue || type == .booleanFalse else {
            throw ThriftDecodingError("expected a boolean, found type \(type)")
        }
        return try readByte() == 1
    }

    mutating func readI32(_ type: ThriftCompactType) throws(ThriftDecodingError) -> Int32 {
        try expect(type, .i32, .i16, .byte)
        if type == .byte { return Int32(Int8(bitPattern: try readByte())) }
        let value = ThriftCompactReader.unzigzag(try readVarint())
        guard let narrowed = Int32(exactly: value) else { throw ThriftDecodingError("i32 value \(value) out of range") }
        return narrowed
    }

    mutating func readI64(_ type: ThriftCompactType) throws(ThriftDecodingError) -> Int64 {
        try expect(type, .i64, .i32, .i16)
        return ThriftCompactReader.unzigzag(try readVarint())
    }

    mutating func readString(_ type: ThriftCompactType) throws(ThriftDecodingError) -> String {
        try expect(type, .binary)
        let count = try readLength()
        let start = position
        position += count
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// A list header: the element type and count. Sets share the encoding.
    mutating func readListHeader(_ type: ThriftCompactType) throws(ThriftDecodingError) -> (
        elementType: ThriftCompactType, count: Int
    ) {
        try expect(type, .list, .set)
        let header = try readByte()
        guard let elementType = ThriftCompactType(rawValue: header & 0x0F) else {
            throw ThriftDecodingError("unknown list element type \(header & 0x0F)")
        }
        var count = Int(header >> 4)
        if count == 15 { count = try readLength() }
        // Every element takes at least one byte, so a larger count is corruption.
        guard count <= bytes.count - position else { throw ThriftDecodingError("list of \(count) elements overruns the buffer") }
        return (elementType, count)
    }

    /// Skips a value of `type` (a field nobody asked for), including nested containers.
    mutating func skip(_ type: ThriftCompactType) throws(ThriftDecodingError) {
        try skip(type, depth: 0)
    }

    // MARK: - Primitives

    static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    mutating func readVarint() throws(ThriftDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw ThriftDecodingError("varint too long at byte \(position)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func readByte() throws(ThriftDecodingError) -> UInt8 {
        guard position < bytes.count else { throw ThriftDecodingError("unexpected end of data at byte \(position)") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readLength() throws(ThriftDecodingError) -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(bytes.count - position) else {
            throw ThriftDecodingError("length \(raw) overruns the buffer at byte \(position)")
        }
        return Int(raw)
    }

    private func expect(_ type: ThriftCompactType, _ allowed: ThriftCompactType...) throws(ThriftDecodingError) {
        guard allowed.contains(type) else { throw ThriftDecodingError("unexpected field type \(type)") }
    }

    private mutating func skip(_ type: ThriftCompactType, depth: Int) throws(ThriftDecodingError) {
        guard depth < ThriftCompactReader.maximumDepth else { throw ThriftDecodingError("values nested too deeply") }
        switch type {
        case .stop: throw ThriftDecodingError("unexpected stop")
        case .booleanTrue, .booleanFalse:
            if pendingBool != nil { pendingBool = nil } else { _ = try readByte() }
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double:
            guard bytes.count - position >= 8 else { throw ThriftDecodingError("unexpected end of data") }
            position += 8
        case .binary: position += try readLength()
        case .list, .set:
            let (elementType, count) = try readListHeader(type)
            for _ in 0..<count { try skip(elementType, depth: depth + 1) }
        case .map:
            let count = try readLength()
            guard count > 0 else { return }
            let kinds = try readByte()
            guard let keyType = ThriftCompactType(rawValue: kinds >> 4),
                let valueType = ThriftCompactType(rawValue: kinds & 0x0F)
            else { throw ThriftDecodingError("unknown map element types \(kinds)") }
            for _ in 0..<count {
                try skip(keyType, depth: depth + 1)
                try skip(valueType, depth: depth + 1)
            }
        case .structure:
            try beginStruct()
            while let (_, fieldType) = try readFieldHeader() {
                try skip(fieldType, depth: depth + 1)
            }
            endStruct()
        }
    }
}

/// Thrift data that could not be decoded: truncated, corrupt, or not what was expected.
struct ThriftDecodingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
