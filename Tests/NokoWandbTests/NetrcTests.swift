@testable import NokoWandb
import Testing

@Suite struct NetrcTests {
    @Test func findsTheKeyThatWandbLoginWrites() {
        let netrc = Netrc(parsing: "machine api.wandb.ai\n  login user\n  password abcdef0123456789abcdef0123456789abcdef01\n")
        #expect(netrc.password(host: "api.wandb.ai", port: nil) == "abcdef0123456789abcdef0123456789abcdef01")
        #expect(netrc.password(host: "example.com", port: nil) == nil)
    }

    @Test func handlesOneLineEntriesCommentsMacrosAndDefault() {
        let text = """
            # a comment
            machine a.example login x password pa
            macdef init
            cd /tmp
            password not-this-one

            machine 127.0.0.1:8080 login api password with-port
            machine 127.0.0.1 login api password without-port
            default login anon password fallback
            """
        let netrc = Netrc(parsing: text)
        #expect(netrc.password(host: "a.example", port: nil) == "pa")
        #expect(netrc.password(host: "127.0.0.1", port: 8080) == "with-port")
        #expect(netrc.password(host: "127.0.0.1", port: 9090) == "without-port")
        #expect(netrc.password(host: "other.example", port: nil) == "fallback")
    }

    @Test func theFirstEntryForAHostWins() {
        let netrc = Netrc(parsing: "machine h password one\nmachine h password two\n")
        #expect(netrc.password(host: "h", port: nil) == "one")
    }
}
