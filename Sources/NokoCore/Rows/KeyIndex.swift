/// Positions of a fixed list of unique keys, looked up by key.
///
/// Every dictionary row is mapped onto its table's schema key by key (dictionaries iterate
/// in a different order per instance), so this lookup runs once per logged value. `[String:
/// Int]` hashes each key with SipHash; here a key's UTF-8 bytes go through a cheap
/// multiplicative hash into an open-addressed table, which makes the lookup more than twice
/// as fast for the short keys rows have. Keys are compared in full, so a poor spread only
/// costs probes, never a wrong answer.
///
/// Swift compares strings by canonical equivalence ("é" precomposed equals "e" + U+0301, the
/// Kelvin sign equals "K"), which a hash of the bytes would not respect. So the byte hash is
/// used only while every key is ASCII; a non-ASCII key then cannot be in its own slot and is
/// looked up by comparison, and an index holding any non-ASCII key uses Swift's hashing.
struct KeyIndex: Sendable {
    private let keys: [String]
    /// Slot → position in `keys` + 1; 0 marks an empty slot.
    private let slots: [Int32]
    private let mask: Int
    /// True when some key is not ASCII: slots then come from `String.hashValue`.
    private let usesSwiftHashing: Bool

    init(_ keys: [String]) {
        self.keys = keys
        usesSwiftHashing = !keys.allSatisfy { KeyIndex.byteHash($0).isASCII }
        var capacity = 8
        while capacity < keys.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        var slots = [Int32](repeating: 0, count: capacity)
        for (position, key) in keys.enumerated() {
            var slot = (usesSwiftHashing ? key.hashValue : KeyIndex.byteHash(key).hash) & mask
            while slots[slot] != 0 {
                // A repeated key keeps its first position.
                if keys[Int(slots[slot]) - 1] == key { break }
                slot = (slot + 1) & mask
            }
            if slots[slot] == 0 { slots[slot] = Int32(position + 1) }
        }
        self.slots = slots
    }

    /// The position of `key`, or nil.
    @inline(__always)
    func position(of key: String) -> Int? {
        var slot: Int
        if usesSwiftHashing {
            slot = key.hashValue & mask
        } else {
            let (hash, isASCII) = KeyIndex.byteHash(key)
            // Canonically equal to an ASCII key only through a rare compatibility character.
            guard isASCII else { return keys.firstIndex(of: key) }
            slot = hash & mask
        }
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if keys[entry - 1] == key { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private static func byteHash(_ key: String) -> (hash: Int, isASCII: Bool) {
        if let result = key.utf8.withContiguousStorageIfAvailable({ byteHash(bytes: $0) }) { return result }
        var copy = key
        return copy.withUTF8 { byteHash(bytes: $0) }
    }

    /// FNV-1a over the bytes, then a final mix so the low bits (the slot) depend on all of them.
    @inline(__always)
    private static func byteHash(bytes: UnsafeBufferPointer<UInt8>) -> (hash: Int, isASCII: Bool) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var high: UInt8 = 0
        for byte in bytes {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            high |= byte
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return (Int(truncatingIfNeeded: h), high < 0x80)
    }
}
