/// The type codes of Thrift's compact protocol, the encoding of Parquet's footer and page
/// headers. Shared by ``ThriftCompactWriter`` and ``ThriftCompactReader``.
enum ThriftCompactType: UInt8 {
    case stop = 0
    /// A boolean field carries its value in its type code: 1 is true…
    case booleanTrue = 1
    /// …and 2 is false.
    case booleanFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}
