/// Hands out the file stems of a run's tables: ``TableFileName/encode(_:)`` of the name, with
/// `~2`, `~3`… added when a table differs from an earlier one only in case, so the two never
/// share a file on a case-insensitive disk. Stems depend on the order tables first appear,
/// which is why a resumed run replays its journal's tables in that order.
struct FileStems: Sendable {
    /// Lower-cased stem → the table that owns it.
    private var owners: [String: String] = [:]

    /// The stem of `table`, assigned on first request; `note` says when a suffix was needed.
    mutating func stem(for table: String) -> (stem: String, note: String?) {
        let base = TableFileName.encode(table)
        var candidate = base
        var n = 1
        while let owner = owners[candidate.lowercased()], owner != table {
            n += 1
            candidate = "\(base)~\(n)"
        }
        var note: String?
        if candidate != base, let owner = owners[base.lowercased()] {
            note = "table '\(table)' differs from table '\(owner)' only in case; its files are named '\(candidate)'"
        }
        owners[candidate.lowercased()] = table
        return (candidate, note)
    }
}
