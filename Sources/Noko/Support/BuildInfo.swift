import Foundation
import NokoCore
import NokoPlatform

/// The executable that runs, as `metadata.json`'s `build` records it.
enum BuildInfo {
    /// Everything but the SHA-256, which ``hashInBackground(_:then:)`` adds: hashing a large
    /// binary takes tens of milliseconds that the program's start need not wait for.
    static func current(cwd: String) -> (record: RunMetadata.Build, executable: String?) {
        var build = RunMetadata.Build()
        let executable = CurrentProcess.executablePath
        build.absolutePath = executable
        build.product = executable.map(FileSystem.lastComponent(of:)) ?? ProcessInfo.processInfo.processName
        build.configuration = configuration
        build.compiler = compilerVersion
        build.cpu = CurrentProcess.cpuModel
        build.cores = ProcessInfo.processInfo.processorCount
        let start = executable.map(FileSystem.parentDirectory(of:)) ?? cwd
        build.packageRoot = packageRoot(from: start) ?? packageRoot(from: cwd)
        build.targetTriple = executable.flatMap(tripleFromBuildPath) ?? compiledTriple
        if let executable {
            if let repository = enclosing(executable, containing: ".git"), executable.hasPrefix(repository + "/") {
                build.path = String(executable.dropFirst(repository.count + 1))
            } else {
                build.path = executable
            }
        }
        return (build, executable)
    }

    /// Hashes `path` on a thread of its own and hands the digest (nil on error) to `done`.
    static func hashInBackground(_ path: String, then done: @escaping @Sendable (String?) -> Void) -> BackgroundWork {
        BackgroundWork(name: "noko-build-hash") { done(try? SHA256.hashFile(path)) }
    }

    /// The nearest directory at or above `directory` holding a `Package.swift`.
    static func packageRoot(from directory: String) -> String? {
        enclosing(directory + "/.", containing: "Package.swift")
    }

    /// The nearest directory above `path` holding an entry named `name`.
    private static func enclosing(_ path: String, containing name: String) -> String? {
        var directory = FileSystem.parentDirectory(of: path)
        while !directory.isEmpty {
            if FileSystem.exists(directory + (directory == "/" ? "" : "/") + name) { return directory }
            if directory == "/" { return nil }
            directory = FileSystem.parentDirectory(of: directory)
        }
        return nil
    }

    /// SwiftPM's `.build/<triple>/<configuration>/<product>` names the triple.
    private static func tripleFromBuildPath(_ executable: String) -> String? {
        let components = executable.split(separator: "/")
        guard let build = components.lastIndex(where: { $0.hasPrefix(".build") }), build + 1 < components.count - 1 else { return nil }
        let candidate = components[build + 1]
        return candidate.split(separator: "-").count >= 3 ? String(candidate) : nil
    }

    static var configuration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    private static var compiledTriple: String {
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "aarch64"
        #else
        let arch = CurrentProcess.kernel.machine
        #endif
        #if os(Linux)
        return "\(arch)-unknown-linux-gnu"
        #elseif os(macOS)
        return "\(arch == "aarch64" ? "arm64" : arch)-apple-macosx"
        #else
        return "\(arch)-unknown-\(CurrentProcess.kernel.name.lowercased())"
        #endif
    }

    /// The compiler's version as `#if compiler` can tell it, to the patch release.
    static var compilerVersion: String {
        #if compiler(>=7.0)
        return "7.0 or newer"
        #elseif compiler(>=6.3.3)
        return "6.3.3 or newer"
        #elseif compiler(>=6.3.2)
        return "6.3.2"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2.3)
        return "6.2.3 or newer"
        #elseif compiler(>=6.2.2)
        return "6.2.2"
        #elseif compiler(>=6.2.1)
        return "6.2.1"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1.3)
        return "6.1.3 or newer"
        #elseif compiler(>=6.1.2)
        return "6.1.2"
        #elseif compiler(>=6.1.1)
        return "6.1.1"
        #else
        return "6.1"
        #endif
    }
}

/// Work on a thread of its own that can be waited for.
final class BackgroundWork: Sendable {
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
            work()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits until the work is done, at most `timeout`; true when it is.
    @discardableResult
    func wait(timeout: Duration) -> Bool {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(min(seconds, 1 << 30)) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        guard finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return false }
        finished.signal()
        return true
    }
}
