extension TerminalText {
    /// A program's own output (its `output.log`) made fit for a terminal the way `less -R`
    /// shows it: colour survives, nothing else can drive the terminal.
    ///
    /// Colour and style sequences (SGR: `ESC [` digits, `;`, `:` … `m`), newlines, carriage
    /// returns (progress bars) and tabs pass through unchanged. Every other escape sequence
    /// is shown visibly: its `ESC` becomes `\e`, so `ESC ] 52 ; c ; … BEL` (write the
    /// clipboard) prints as the text `\e]52;c;…\x07` and `ESC [ 2 J` as `\e[2J`. Other
    /// control characters (C0, DEL, C1) get the escapes of ``TerminalText/escaped(_:)``.
    /// Bytes that are not UTF-8 (a Latin-1 file) pass, except `80`…`9F`, which an 8-bit
    /// terminal reads as C1 controls: those show as `\x9b`. Backslashes are left alone: this
    /// is for reading a log, like a pager, not for telling values apart.
    ///
    /// With `passingBareCarriageReturns: false` (a diff, which is read, not watched) only a
    /// carriage return that ends a line (`\r\n`) passes; one in the middle of a line, which
    /// would let the rest of the line hide what came before, shows as `\r`.
    ///
    /// The filter works on chunks as they are read (`logs --follow`): a sequence or a UTF-8
    /// character cut by a chunk boundary is held back until the next chunk completes it, and
    /// ``finish()`` flushes whatever is left.
    package struct ColourPassingFilter: Sendable {
        /// An SGR sequence longer than this is not colour (real ones are under 40 bytes); it
        /// is shown, and a stream with an endless `ESC [ 1;1;1…` is not held back forever.
        static let longestColourSequence = 64

        private var pending: [UInt8] = []
        private let passesBareCarriageReturns: Bool

        /// A filter at the start of a stream.
        package init(passingBareCarriageReturns: Bool = true) {
            passesBareCarriageReturns = passingBareCarriageReturns
        }

        /// The displayable form of `bytes` in one go.
        package static func filtered(_ bytes: some Sequence<UInt8>, passingBareCarriageReturns: Bool = true) -> [UInt8] {
            var filter = ColourPassingFilter(passingBareCarriageReturns: passingBareCarriageReturns)
            return filter.filter(bytes) + filter.finish()
        }

        /// The displayable form of the next chunk of the stream; an unfinished sequence at its
        /// end waits for the next chunk.
        package mutating func filter(_ chunk: some Sequence<UInt8>) -> [UInt8] {
            pending.append(contentsOf: chunk)
            var out: [UInt8] = []
            out.reserveCapacity(pending.count)
            let consumed = process(pending, into: &out, atEnd: false)
            pending.removeFirst(consumed)
            return out
        }

        /// The end of the stream: what was held back, shown (an `ESC` or a UTF-8 lead byte
        /// that nothing completed is escaped).
        package mutating func finish() -> [UInt8] {
            var out: [UInt8] = []
            _ = process(pending, into: &out, atEnd: true)
            pending.removeAll()
            return out
        }

        /// Filters `bytes` into `out` and returns how many were consumed: all of them `atEnd`,
        /// else up to an unfinished sequence at the end.
        private func process(_ bytes: [UInt8], into out: inout [UInt8], atEnd: Bool) -> Int {
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 0x0D where !passesBareCarriageReturns:
                    if i + 1 == bytes.count && !atEnd { return i }
                    if i + 1 < bytes.count && bytes[i + 1] == 0x0A {
                        out.append(byte)
                    } else {
                        out.append(contentsOf: Self.escapeBytes(Unicode.Scalar(byte)))
                    }
                    i += 1
                case 0x09, 0x0A, 0x0D:
                    out.append(byte)
                    i += 1
                case 0x1B:
                    switch Self.colourSequenceLength(bytes, at: i, atEnd: atEnd) {
                    case .incomplete:
                        return i
                    case .colour(let length):
                        out.append(contentsOf: bytes[i..<i + length])
                        i += length
                    case .notColour:
                        // The rest of the sequence is printable text, or controls escaped in turn.
                        out.append(contentsOf: Self.escapeBytes(Unicode.Scalar(byte)))
                        i += 1
                    }
                case 0x00..<0x20, 0x7F:
                    out.append(contentsOf: Self.escapeBytes(Unicode.Scalar(byte)))
                    i += 1
                case 0x20..<0x80:
                    // Printable ASCII, most of a log: copied a run at a time.
                    var end = i + 1
                    while end < bytes.count, (0x20..<0x7F).contains(bytes[end]) { end += 1 }
                    out.append(contentsOf: bytes[i..<end])
                    i = end
                default:
                    switch Self.utf8Character(bytes, at: i, atEnd: atEnd) {
                    case .incomplete:
                        return i
                    case .invalid where byte < 0xA0:
                        out.append(contentsOf: Array(("\\x" + TerminalText.hex(UInt32(byte), digits: 2)).utf8))
                        i += 1
                    case .invalid:
                        out.append(byte)
                        i += 1
                    case .scalar(let scalar, let length):
                        if TerminalText.isControl(scalar) {
                            out.append(contentsOf: Self.escapeBytes(scalar))
                        } else {
                            out.append(contentsOf: bytes[i..<i + length])
                        }
                        i += length
                    }
                }
            }
            return i
        }

        private static func escapeBytes(_ scalar: Unicode.Scalar) -> [UInt8] {
            Array((TerminalText.escape(for: scalar) ?? "").utf8)
        }

        private enum ColourSequence {
            case colour(length: Int)
            case notColour
            case incomplete
        }

        /// Whether the `ESC` at `start` begins an SGR sequence: `ESC [`, parameters made of
        /// digits, `;` and `:`, then `m`.
        private static func colourSequenceLength(_ bytes: [UInt8], at start: Int, atEnd: Bool) -> ColourSequence {
            var i = start + 1
            guard i < bytes.count else { return atEnd ? .notColour : .incomplete }
            guard bytes[i] == UInt8(ascii: "[") else { return .notColour }
            i += 1
            while i < bytes.count, i - start < longestColourSequence {
                switch bytes[i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: ";"), UInt8(ascii: ":"):
                    i += 1
                case UInt8(ascii: "m"):
                    return .colour(length: i - start + 1)
                default:
                    return .notColour
                }
            }
            return i - start >= longestColourSequence || atEnd ? .notColour : .incomplete
        }

        private enum UTF8Character {
            case scalar(Unicode.Scalar, length: Int)
            case invalid
            case incomplete
        }

        /// The UTF-8 character whose lead byte is at `start` (RFC 3629: no overlong forms, no
        /// surrogates, nothing above U+10FFFF).
        private static func utf8Character(_ bytes: [UInt8], at start: Int, atEnd: Bool) -> UTF8Character {
            let lead = bytes[start]
            let length: Int
            var value: UInt32
            var secondRange: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF:
                length = 2
                value = UInt32(lead & 0x1F)
            case 0xE0...0xEF:
                length = 3
                value = UInt32(lead & 0x0F)
                if lead == 0xE0 { secondRange = 0xA0...0xBF }
                if lead == 0xED { secondRange = 0x80...0x9F }
            case 0xF0...0xF4:
                length = 4
                value = UInt32(lead & 0x07)
                if lead == 0xF0 { secondRange = 0x90...0xBF }
                if lead == 0xF4 { secondRange = 0x80...0x8F }
            default:
                return .invalid
            }
            for offset in 1..<length {
                guard start + offset < bytes.count else { return atEnd ? .invalid : .incomplete }
                let byte = bytes[start + offset]
                guard (offset == 1 ? secondRange : 0x80...0xBF).contains(byte) else { return .invalid }
                value = value << 6 | UInt32(byte & 0x3F)
            }
            guard let scalar = Unicode.Scalar(value) else { return .invalid }
            return .scalar(scalar, length: length)
        }
    }
}
