import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    public static let system = RowClock {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

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
        var t = time_t(second)
        var parts = tm()
        localtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
    }
}
