import Foundation

/// Remote URLs as recorded in metadata: never with credentials.
enum RemoteURL {
    /// `url` without the user name and password of a `scheme://user:password@host/…` URL
    /// (tokens often sit there). scp-like `git@host:path` addresses hold no password and are
    /// returned unchanged.
    static func strippingCredentials(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<authorityStart]) + String(url[url.index(after: at)...])
    }
}
