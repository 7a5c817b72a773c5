/// The proxy the standard variables ask for, read the way libcurl reads them, but from the
/// injected environment (so tests never depend on the machine's).
///
/// `http_proxy` (lower case only: `HTTP_PROXY` can be set by a CGI request header),
/// `https_proxy`/`HTTPS_PROXY`, then `all_proxy`/`ALL_PROXY`; hosts in `no_proxy`/`NO_PROXY`
/// go direct.
package struct ProxySettings: Sendable, Equatable {
    /// The proxy URL, or nil for a direct connection. May hold userinfo: never log it.
    package var proxy: String?
    /// curl's `NOPROXY` list.
    package var noProxy: String?

    package init(proxy: String? = nil, noProxy: String? = nil) {
        self.proxy = proxy
        self.noProxy = noProxy
    }

    package init(environment env: [String: String], scheme: String) {
        func value(_ names: String...) -> String? {
            for name in names {
                if let v = env[name], !v.isEmpty { return v }
            }
            return nil
        }
        let specific = scheme == "https" ? value("https_proxy", "HTTPS_PROXY") : value("http_proxy")
        proxy = specific ?? value("all_proxy", "ALL_PROXY")
        noProxy = value("no_proxy", "NO_PROXY")
    }
}
