/// A file that only grows by whole records: the journal, a TensorBoard event file, a CSV
/// file, `debug.log`.
///
/// A failed append (a full disk, an I/O error) may have written part of its bytes before
/// failing; they are cut back off, so the next record never lands after half a record. When
/// even that cut fails (the disk went read-only between the two calls, an injected fault), the
/// half record is remembered and cut before the next append, which fails rather than glue a
/// record to it. A value type: its owner serializes appends.
package struct AppendOnlyFile: Sendable {
    /// The descriptor appended to (opened with `O_APPEND`, or written at the end).
    package let descriptor: FileDescriptor
    /// The file's length after the last whole record: what a reader may trust.
    package private(set) var size: UInt64
    /// True while bytes of a failed append may lie after ``size``.
    package private(set) var hasTornTail = false

    /// Appends to `descriptor`, whose whole records end at `size`; anything after `size` is a
    /// torn tail that the next append cuts off first.
    package init(_ descriptor: FileDescriptor, size: UInt64) {
        self.descriptor = descriptor
        self.size = size
        hasTornTail = ((try? descriptor.size()) ?? size) > size
    }

    /// Appends `bytes` whole or not at all.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) throws(NokoSystemError) {
        // Only after a failed cut: the normal path is one write per record.
        if hasTornTail {
            try descriptor.truncate(to: size)
            hasTornTail = false
        }
        do {
            try descriptor.writeAll(bytes)
        } catch {
            // A simulated crash cleans nothing up, as a dead process would not.
            if !error.isInjectedStop {
                do throws(NokoSystemError) {
                    try descriptor.truncate(to: size)
                } catch {
                    hasTornTail = true
                }
            }
            throw error
        }
        size += UInt64(bytes.count)
    }

    /// Appends `bytes` whole or not at all (see the raw-buffer form).
    package mutating func append(_ bytes: [UInt8]) throws(NokoSystemError) {
        // withUnsafeBytes rethrows untyped errors, so the typed error travels out as a value.
        let failure: NokoSystemError? = bytes.withUnsafeBytes { buffer in
            do throws(NokoSystemError) {
                try append(buffer)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
    }
}
