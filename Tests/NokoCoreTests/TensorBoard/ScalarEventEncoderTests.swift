import Testing

@testable import NokoCore

@Suite struct ScalarEventEncoderTests {
    private func row(
        _ table: String, step: Int, time: Double, _ pairs: [(String, Scalar)], schema: RowSchema? = nil
    ) -> SummarizedRow {
        SummarizedRow(
            table: table, step: step, level: .info, time: RowTime(utcTimestamp: time, localTime: "2023-11-14T22:13:21"),
            schema: schema ?? RowSchema(keys: pairs.map(\.0)), values: pairs.map(\.1))
    }

    /// The payloads of the records `rows` encode to.
    private func payloads(_ rows: [SummarizedRow], encoder: inout ScalarEventEncoder) throws -> [[UInt8]] {
        var records = TFRecordWriter()
        for row in rows { encoder.appendEvent(for: row, to: &records) }
        return try TFRecordReader.records(in: records.bytes).map(\.payload)
    }

    // Event(wall_time=1700000001.5, step=42, summary=Summary(value=[Value(tag="train/loss",
    // simple_value=0.5), Value(tag="train/acc", simple_value=0.0), Value(tag="train/n", simple_value=3.0)]))
    static let threeScalarsAtStep42: [UInt8] = [
        0x09, 0x00, 0x00, 0x60, 0x40, 0xFC, 0x54, 0xD9, 0x41, 0x10, 0x2A, 0x2A, 0x35, 0x0A, 0x11, 0x0A, 0x0A, 0x74,
        0x72, 0x61, 0x69, 0x6E, 0x2F, 0x6C, 0x6F, 0x73, 0x73, 0x15, 0x00, 0x00, 0x00, 0x3F, 0x0A, 0x10, 0x0A, 0x09,
        0x74, 0x72, 0x61, 0x69, 0x6E, 0x2F, 0x61, 0x63, 0x63, 0x15, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x0E, 0x0A, 0x07,
        0x74, 0x72, 0x61, 0x69, 0x6E, 0x2F, 0x6E, 0x15, 0x00, 0x00, 0x40, 0x40,
    ]

    @Test func rowMatchesTensorBoardsEncoding() throws {
        var encoder = ScalarEventEncoder()
        let encoded = try payloads(
            [row("train", step: 42, time: 1_700_000_001.5, [("loss", 0.5), ("acc", 0.0), ("n", 3.0)])],
            encoder: &encoder)
        #expect(encoded == [Self.threeScalarsAtStep42])
    }

    @Test func booleansBecomeNumbersAndStringsAndNullsAreSkipped() throws {
        // false -> 0.0 and the integer 3 -> 3.0 give the same bytes; "phase" and "missing" vanish.
        var encoder = ScalarEventEncoder()
        let pairs: [(String, Scalar)] = [("loss", 0.5), ("phase", "train"), ("acc", false), ("missing", nil), ("n", 3)]
        let encoded = try payloads([row("train", step: 42, time: 1_700_000_001.5, pairs)], encoder: &encoder)
        #expect(encoded == [Self.threeScalarsAtStep42])
    }

    @Test func negativeStep() throws {
        // Event(wall_time=1700000001.5, step=-1, summary=Summary(value=[Value(tag="t/x", simple_value=1.0)]))
        let expected: [UInt8] = [
            0x09, 0x00, 0x00, 0x60, 0x40, 0xFC, 0x54, 0xD9, 0x41, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0x01, 0x2A, 0x0C, 0x0A, 0x0A, 0x0A, 0x03, 0x74, 0x2F, 0x78, 0x15, 0x00, 0x00, 0x80, 0x3F,
        ]
        var encoder = ScalarEventEncoder()
        #expect(try payloads([row("t", step: -1, time: 1_700_000_001.5, [("x", true)])], encoder: &encoder) == [expected])
    }

    @Test func rowWithoutNumbersGivesNoEvent() throws {
        var encoder = ScalarEventEncoder()
        var records = TFRecordWriter()
        let wrote = encoder.appendEvent(for: row("t", step: 0, time: 1, [("s", "text"), ("n", nil)]), to: &records)
        #expect(!wrote)
        #expect(records.bytes.isEmpty)
        #expect(!encoder.appendEvent(for: row("t", step: 0, time: 1, []), to: &records))
    }

    @Test func colonsInTagsBecomeUnderscores() {
        #expect(ScalarEventEncoder.tag(table: "eval:test", key: "acc:top1") == "eval_test/acc_top1")
        #expect(ScalarEventEncoder.tag(table: "train", key: "opt/lr") == "train/opt/lr")
        #expect(ScalarEventEncoder.tag(table: "tëst", key: "λ:1") == "tëst/λ_1")
    }

    @Test func oneSchemaInTwoTablesGetsEachTablesTags() throws {
        // The cache is keyed by schema and table, so sharing a schema cannot leak tags across tables.
        let schema = RowSchema(keys: ["x"])
        var encoder = ScalarEventEncoder()
        let rows = [
            row("a", step: 1, time: 2, [("x", 1)], schema: schema), row("b", step: 1, time: 2, [("x", 1)], schema: schema),
            row("a", step: 2, time: 2, [("x", 1)], schema: schema),
        ]
        let encoded = try payloads(rows, encoder: &encoder)
        var fresh = ScalarEventEncoder()
        let separately = try rows.map { try payloads([row($0.table, step: $0.step, time: 2, [("x", 1)])], encoder: &fresh)[0] }
        #expect(encoded == separately)
        #expect(encoded[0] != encoded[1])
    }

    @Test func overflowingDoublesBecomeInfinityWithOneWarningPerTag() throws {
        var encoder = ScalarEventEncoder()
        var records = TFRecordWriter()
        let schema = RowSchema(keys: ["big", "small", "nan"])
        for value in [1e300, -1e300, 1e300] {
            encoder.appendEvent(
                for: row("t", step: 0, time: 1, [("big", .double(value)), ("small", 1e-300), ("nan", .double(.nan))], schema: schema),
                to: &records)
        }
        let warnings = encoder.takeWarnings()
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("'big'") == true)
        #expect(warnings.first?.contains("t/big") == true)
        #expect(encoder.takeWarnings().isEmpty)
        // The simple_value bytes of the first row: +inf, then 0 (underflow is silent), then NaN.
        let payload = try TFRecordReader.records(in: records.bytes)[0].payload
        let floats = [Float.infinity, 0, Float.nan].map { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        for bytes in floats {
            #expect(payload.indices.contains { payload[$0...].starts(with: [0x15] + bytes) })
        }
    }
}
