/// Positions of a fixed list of unique keys, looked up by key.
///
/// Every dictionary row is mapped onto its table's schema key by key (dictionaries iterate
/// in a different order per instance), so this lookup runs once per logged value. `[String:
/// Int]` hashes each key with SipHash; here a key's UTF-8 bytes go through a cheap
/// multiplicative hash into an open-addressed table, which makes the lookup more than twice
/// as fast for the short keys rows have. Keys are compared in full, so a poor spread only
/// costs probes, never a wrong answer.
struct KeyIndex: Sendable {
    private let keys: [String]
    /// Slot → position in `keys` + 1; 0 marks an empty slot.
    private let slots: [Int32]
    private let mask: Int

    init(_ keys: [String]) {
        self.keys = keys
        var capacity = 8
        while capacity < keys.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        var slots = [Int32](repeating: 0, count: capacity)
        for (position, key) in keys.enumerated() {
            var slot = KeyIndex.hash(key) & mask
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
        var slot = KeyIndex.hash(key) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if keys[entry - 1] == key { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private static func hash(_ key: String) -> Int {
        if let h = key.utf8.withContiguousStorageIfAvailable({ hash(bytes: $0) }) { return h }
        var copy = key
        return copy.withUTF8 { hash(bytes: $0) }
    }

    /// FNV-1a over the bytes, then a final mix so the low bits (the slot) depend on all of them.
    @inline(__always)
    private static func hash(bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }
}
