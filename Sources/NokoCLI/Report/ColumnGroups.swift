/// Groups a table's columns by the first `/`-separated part of their keys, as TensorBoard
/// groups tags: `train/loss` and `train/acc` share the group `train`. Keys without a `/`
/// share one unnamed group, shown first.
enum ColumnGroups {
    /// (group name, its keys), groups and keys sorted; the unnamed group has the name "".
    static func group(_ keys: [String]) -> [(name: String, keys: [String])] {
        var groups: [String: [String]] = [:]
        for key in keys {
            let name = key.firstIndex(of: "/").map { String(key[..<$0]) } ?? ""
            groups[name, default: []].append(key)
        }
        return groups.keys.sorted().map { ($0, groups[$0]!.sorted()) }
    }
}
