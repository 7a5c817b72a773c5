import Foundation

/// The environment the tests run the git CLI with: no system configuration, an empty global
/// configuration file of this test process's own, a fixed identity.
///
/// The global file is a real empty file rather than `/dev/null`: git reads `/dev/null` as a
/// configuration file like any other, so if anything on the machine ever replaces the device
/// with a regular file, every git test would fail with "bad config line 1 in file /dev/null"
/// instead of testing noko.
package let gitTestEnvironment: [String: String] = {
    let globalConfig = temporaryRoot.appendingPathComponent("gitconfig")
    try! Data().write(to: globalConfig)
    var environment = ProcessInfo.processInfo.environment
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["GIT_CONFIG_GLOBAL"] = globalConfig.path
    for key in ["GIT_AUTHOR", "GIT_COMMITTER"] {
        environment["\(key)_NAME"] = "Test Author"
        environment["\(key)_EMAIL"] = "author@example.com"
    }
    return environment
}()
