/// A type that knows how to summarize itself into flat keys.
///
/// Conform your own types; for types you don't own, register a summarizer with
/// `Noko.declareSummarizer(for:_:)` instead.
///
/// ```swift
/// extension Particle: NokoSummarizable {
///     func summarize(prefix: String, into summary: inout ValueColumns) {
///         summary.add("\(prefix)/energy", .double(energy))
///         summary.summarize(position, prefix: "\(prefix)/position")
///     }
/// }
/// ```
public protocol NokoSummarizable {
    /// Adds this value's keys to `summary`. `prefix` is the key this value was found under
    /// (empty for a whole row); join nested keys to it with `/`.
    func summarize(prefix: String, into summary: inout ValueColumns)
}

extension String {
    /// `prefix/key`, or `key` at the top level.
    @inline(__always)
    func nokoJoined(_ key: String) -> String {
        isEmpty ? key : self + "/" + key
    }
}
