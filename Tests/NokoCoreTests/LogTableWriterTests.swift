import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct LogTableWriterTests {
    static let table = LogTable(columns: [
        ("$step", [.int(0), .int(1), .int(2)]),
        ("x", [.double(0.5), .double(.nan), .null]),
        ("s", [.string("a,b"), .string("1.5"), .string("")]),
        ("b", [.bool(true), .null, .bool(false)]),
        ("inf", [.double(.infinity), .double(-.infinity), .int(-3)]),
    ])

    @Test func csvInNokosDialect() throws {
        var bytes: [UInt8] = []
        LogTableWriter.writeCSV(Self.table, columns: ["$step", "b", "inf", "s", "x"]) { bytes += $0 }
        #expect(String(decoding: bytes, as: UTF8.self) == "$step,b,\"inf\",s,x\n0,True,inf,\"a,b\",0.5\n1,,-inf,\"1.5\",nan\n2,False,-3,\"\",\n")
        // It reads back as the same values.
        let url = temporaryDirectory().appendingPathComponent("t.csv")
        try Data(bytes).write(to: url)
        let loaded = try LogFileLoader.load(url.path)
        for name in ["$step", "b", "inf", "s", "x"] {
            #expect(loaded[name]!.map(\.description) == Self.table[name]!.map(\.description), "\(name)")
        }
    }

    @Test func ndjsonIsStrictAndLeavesNullsOut() throws {
        var bytes: [UInt8] = []
        LogTableWriter.writeNDJSON(Self.table, chunkSize: 8) { bytes += $0 }
        #expect(String(decoding: bytes, as: UTF8.self) == """
            {"$step":0,"x":0.5,"s":"a,b","b":true,"inf":"Infinity"}
            {"$step":1,"x":"NaN","s":"1.5","inf":"-Infinity"}
            {"$step":2,"s":"","b":false,"inf":-3}

            """)
    }

    @Test func chunksCoverEverything() {
        let big = LogTable(columns: [("i", (0..<10_000).map { Scalar.int(Int64($0)) })])
        var chunks = 0
        var bytes: [UInt8] = []
        LogTableWriter.writeCSV(big, chunkSize: 1000) {
            chunks += 1
            bytes += $0
        }
        #expect(chunks > 10)
        #expect(String(decoding: bytes, as: UTF8.self) == "i\n" + (0..<10_000).map { "\($0)\n" }.joined())
    }
}
