import Testing

@testable import NokoCore

@Suite struct KeyIndexTests {
    @Test func findsEveryKeyAndNothingElse() {
        let keys = (0..<1000).map { "k\($0)" } + ["", "é/ü", String(repeating: "long key ", count: 20), "$step"]
        let index = KeyIndex(keys)
        for (i, key) in keys.enumerated() { #expect(index.position(of: key) == i, "\(key)") }
        // Equal text built separately (a heap string, not the same storage) is found too.
        #expect(index.position(of: String(repeating: "long ", count: 1) + "key " + String(repeating: "long key ", count: 19)) == 1002)
        for missing in ["k1000", "k-1", "K1", "$Step", "long key"] { #expect(index.position(of: missing) == nil, "\(missing)") }
    }

    @Test func aRepeatedKeyKeepsItsFirstPosition() {
        let index = KeyIndex(["a", "b", "a"])
        #expect(index.position(of: "a") == 0)
        #expect(index.position(of: "b") == 1)
    }

    @Test func keysAreFoundByCanonicalEquivalenceLikeStringEquality() {
        let precomposed = "caf\u{E9}", decomposed = "cafe\u{301}", kelvin = "\u{212A}"
        #expect(precomposed == decomposed && kelvin == "K", "what Swift's String equality says")
        // Every key ASCII: a non-ASCII lookup still finds its canonical equal.
        let ascii = KeyIndex(["x", "K", "y"])
        #expect(ascii.position(of: kelvin) == 1)
        #expect(ascii.position(of: precomposed) == nil)
        // Some key not ASCII: either spelling finds it.
        for stored in [precomposed, decomposed] {
            let index = KeyIndex(["a", stored, "b"] + (0..<40).map { "k\($0)" })
            #expect(index.position(of: precomposed) == 1)
            #expect(index.position(of: decomposed) == 1)
            #expect(index.position(of: "k39") == 42)
            #expect(index.position(of: "cafe") == nil)
        }
    }

    @Test func anEmptyIndexFindsNothing() {
        #expect(KeyIndex([]).position(of: "a") == nil)
    }
}
