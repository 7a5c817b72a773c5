/// The credentials `~/.netrc` holds for one host, the way `wandb login` stores its key:
/// `machine api.wandb.ai login user password <API key>`.
///
/// The grammar is curl's and Python `netrc`'s: whitespace-separated tokens, `machine NAME`
/// starts an entry, `default` matches any host, `login`/`password`/`account` give fields,
/// `macdef NAME` skips to the next blank line, and `#` starts a comment.
struct Netrc {
    struct Entry: Equatable {
        var login: String?
        var password: String?
    }

    private(set) var machines: [String: Entry] = [:]
    private(set) var fallback: Entry?

    init(parsing text: String) {
        var tokens: [Substring] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        while let line = lines.popFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if let first = words.first, first.hasPrefix("#") { continue }
            if let index = words.firstIndex(of: "macdef") {
                tokens.append(contentsOf: words[..<index])
                // A macro body runs to the next empty line.
                while let body = lines.popFirst(), !body.trimmingSpaces.isEmpty {}
                continue
            }
            tokens.append(contentsOf: words)
        }

        var current: (host: String?, entry: Entry)?
        func close() {
            guard let finished = current else { return }
            if let host = finished.host {
                if machines[host] == nil { machines[host] = finished.entry }
            } else if fallback == nil {
                fallback = finished.entry
            }
            current = nil
        }
        var i = 0
        while i < tokens.count {
            let token = tokens[i]
            let value = i + 1 < tokens.count ? String(tokens[i + 1]) : nil
            switch token {
            case "machine":
                close()
                current = (value, Entry())
                i += 2
            case "default":
                close()
                current = (nil, Entry())
                i += 1
            case "login", "user":
                current?.entry.login = value
                i += 2
            case "password":
                current?.entry.password = value
                i += 2
            case "account":
                i += 2
            default:
                i += 1
            }
        }
        close()
    }

    /// The password for `host` (tried as `host:port` first when a port is given).
    func password(host: String, port: Int?) -> String? {
        if let port, let entry = machines["\(host):\(port)"], let password = entry.password { return password }
        if let entry = machines[host] { return entry.password }
        return fallback?.password
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
    }
}
