import Foundation
import NokoTestSupport
import Testing

@testable import NokoCore

@Suite struct TableFileNameTests {
    @Test(arguments: [
        ("grad_step", "grad_step"), ("train/loss", "train%2Floss"), ("../x", "%2E.%2Fx"), ("a:b", "a%3Ab"),
        (".", "%2E"), ("..", "%2E."), ("", "%"), ("100%", "100%25"), ("tab\there", "tab%09here"),
        ("é", "%C3%A9"), ("v1.2", "v1.2"),
    ])
    func mapping(table: String, stem: String) {
        #expect(TableFileName.encode(table) == stem)
        #expect(TableFileName.decode(stem) == table)
    }

    @Test func hostileNamesNeverLeaveTheDirectory() {
        let hostile = ["../../etc/passwd", "/abs", "a\0b", "\n", "C:\\x", "~", "...", "a/../../b", String(repeating: "/", count: 300)]
        for name in hostile {
            let stem = TableFileName.encode(name)
            #expect(!stem.contains("/") && !stem.contains("\\") && !stem.contains(":"), "\(name.debugDescription)")
            #expect(!stem.hasPrefix("."))
            #expect(stem.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
            #expect(stem.utf8.count <= 200)
        }
    }

    @Test func distinctNamesGiveDistinctStems() {
        var rng = SeededRandom()
        let alphabet = Array("ab/.:%_ é\n")
        var seen: [String: String] = [:]
        for _ in 0..<5000 {
            let name = String((0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            let stem = TableFileName.encode(name)
            if let other = seen[stem] { #expect(other == name, "\(other.debugDescription) and \(name.debugDescription) collide") }
            seen[stem] = name
        }
    }

    @Test func longNamesAreHashedAndStayDistinct() {
        let a = String(repeating: "x", count: 500) + "a"
        let b = String(repeating: "x", count: 500) + "b"
        #expect(TableFileName.encode(a) != TableFileName.encode(b))
        #expect(TableFileName.encode(a).utf8.count <= 200)
        #expect(TableFileName.decode(TableFileName.encode(a)) == nil)
        #expect(TableFileName.encode(String(repeating: "/", count: 100)).contains("%~"))
    }
}
