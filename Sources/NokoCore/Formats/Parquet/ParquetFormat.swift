/// The enumerations of the Parquet format (parquet.thrift), as the raw values stored in files.
///
/// Files written by other tools may carry values these enums don't name; metadata therefore
/// keeps raw `Int32`s and these types interpret them.
enum ParquetPhysicalType: Int32 {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLengthByteArray = 7
}

enum ParquetEncoding: Int32 {
    case plain = 0
    case plainDictionary = 2
    case rle = 3
    case bitPacked = 4
    case deltaBinaryPacked = 5
    case deltaLengthByteArray = 6
    case deltaByteArray = 7
    case rleDictionary = 8
    case byteStreamSplit = 9
}

enum ParquetPageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

enum ParquetRepetition: Int32 {
    case required = 0
    case optional = 1
    case repeated = 2
}

/// `ConvertedType.UTF8`: a BYTE_ARRAY column holding text.
let parquetConvertedTypeUTF8: Int32 = 0
/// `ConvertedType.DECIMAL`: integers that are really scaled decimals, which noko doesn't read.
let parquetConvertedTypeDecimal: Int32 = 5
/// The field of the `LogicalType` union that marks text (`STRING`).
let parquetLogicalTypeStringField: Int16 = 1
/// The field of the `LogicalType` union that marks decimals.
let parquetLogicalTypeDecimalField: Int16 = 5

/// The four bytes that open and close every Parquet file.
let parquetMagic: [UInt8] = Array("PAR1".utf8)

/// A compression codec for the pages noko writes.
package enum ParquetCompression: Sendable, Hashable, CustomStringConvertible {
    /// Pages are stored as they are.
    case none
    /// Pages are compressed with Snappy (raw blocks, as Parquet specifies), implemented in
    /// pure Swift. Every Parquet reader supports it.
    case snappy

    /// The `CompressionCodec` value in the file.
    var codec: Int32 {
        switch self {
        case .none: return 0
        case .snappy: return 1
        }
    }

    /// The codec for a file's raw value, if noko implements it.
    init?(codec: Int32) {
        switch codec {
        case 0: self = .none
        case 1: self = .snappy
        default: return nil
        }
    }

    package var description: String {
        switch self {
        case .none: return "uncompressed"
        case .snappy: return "snappy"
        }
    }
}

/// The names of Parquet's codecs, for error messages about the ones noko can't read.
func parquetCodecName(_ codec: Int32) -> String {
    let names = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
    return codec >= 0 && Int(codec) < names.count ? names[Int(codec)] : "codec \(codec)"
}

/// The names of Parquet's physical types, for error messages.
func parquetTypeName(_ type: Int32) -> String {
    let names = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"]
    return type >= 0 && Int(type) < names.count ? names[Int(type)] : "type \(type)"
}

/// The names of Parquet's encodings, for error messages.
func parquetEncodingName(_ encoding: Int32) -> String {
    let names = [
        "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
        "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT",
    ]
    return encoding >= 0 && Int(encoding) < names.count ? names[Int(encoding)] : "encoding \(encoding)"
}
