import Testing
import NokoTestSupport

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

@Suite struct RowSchemaPermutationTests {
    @Test func aShuffledKeyListMapsOntoTheSchema() {
        let keys = (0..<150).map { "k\($0)" }  // more than one word of taken-position bits
        let schema = RowSchema(keys: keys)
        var rng = SeededRandom()
        let shuffled = keys.shuffled(using: &rng)
        let permutation = schema.permutation(from: shuffled)
        #expect(permutation == shuffled.map { schema.index(of: $0)! })
        #expect(schema.permutation(from: keys) == Array(0..<150))
    }

    @Test func anythingButAPermutationIsNil() {
        let schema = RowSchema(keys: ["a", "b", "c"])
        #expect(schema.permutation(from: ["a", "b"]) == nil, "fewer keys")
        #expect(schema.permutation(from: ["a", "b", "c", "d"]) == nil, "more keys")
        #expect(schema.permutation(from: ["a", "b", "d"]) == nil, "a key the schema lacks")
        #expect(schema.permutation(from: ["a", "b", "b"]) == nil, "a repeated key")
        #expect(schema.permutation(from: ["c", "a", "b"]) == [2, 0, 1])
    }
}
