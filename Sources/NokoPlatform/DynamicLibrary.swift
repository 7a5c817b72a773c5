#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library loaded at run time (`dlopen(3)`), so an optional library (NVML) costs
/// no link-time dependency: where it is missing, opening it fails and the feature is off.
///
/// The library stays loaded for the life of the process: a handle is never closed, so a
/// function pointer taken from it can never dangle.
package final class DynamicLibrary: Sendable {
    /// The name or path the library was opened with.
    package let path: String
    // dlopen's handle is process-wide and immutable: sharing it between threads is safe.
    private nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Opens `path` (a bare name is searched for as the dynamic linker searches, e.g.
    /// `libnvidia-ml.so.1`), with symbols resolved now and kept local to this handle.
    /// Returns the loader's reason (`dlerror(3)`) when it cannot.
    package static func open(_ path: String) -> Result<DynamicLibrary, DynamicLibraryError> {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            return .failure(DynamicLibraryError(path: path, reason: lastError() ?? "unknown error"))
        }
        return .success(DynamicLibrary(path: path, handle: handle))
    }

    /// The address of the function or variable `name` (`dlsym(3)`), nil when the library
    /// does not export it. Cast it with `unsafeBitCast(_:to:)` to a `@convention(c)` type.
    package func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    private static func lastError() -> String? {
        dlerror().map { String(cString: $0) }
    }
}

/// Why a shared library could not be opened: the loader's own words.
package struct DynamicLibraryError: Error, Sendable, CustomStringConvertible {
    /// The name or path given to `dlopen`.
    package let path: String
    /// `dlerror(3)`'s text.
    package let reason: String

    package var description: String { "cannot load \(path): \(reason)" }
}
