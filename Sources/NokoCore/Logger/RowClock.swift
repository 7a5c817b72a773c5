import Foundation
import NokoPlatform
import Synchronization

/// Where rows get their timestamps. Tests inject a fixed clock.
public struct RowClock: Sendable {
    /// Seconds since the Unix epoch.
    public let now: @Sendable () -> Double

    /// A clock reading `now`.
    public init(now: @escaping @Sendable () -> Double) {
        self.now = now
    }

    /// The system's real-time clock: true Unix time whatever the time zone (Python noko's
    /// `utcnow().timestamp()` is off by the UTC offset outside UTC).
    public static let system = RowClock { WallClock.now() }

    /// A clock that starts at `start` and advances by `tick` seconds each reading.
    public static func stepping(from start: Double, by tick: Double) -> RowClock {
        let readings = Atomic<Int>(0)
        return RowClock { start + Double(readings.add(1, ordering: .relaxed).oldValue) * tick }
    }
}

/// Formats Unix times as local `YYYY-MM-DDTHH:MM:SS`, reusing the text within a second.
struct LocalTimeFormatter {
    private var cachedSecond = Int.min
    private var cachedText = ""

    mutating func format(_ unixTime: Double) -> String {
        let second = Int(unixTime.rounded(.down))
        if second != cachedSecond {
            cachedSecond = second
            cachedText = LocalTimeFormatter.localTime(second)
        }
        return cachedText
    }

    static func localTime(_ second: Int) -> String {
        let parts = WallClock.localTime(second)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))"
    }
}
