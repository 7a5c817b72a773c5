import NokoCore
import Testing

@testable import NokoCLI

@Suite struct TerminalTests {
    @Test func colourOnlyOnATerminalWithoutNO_COLOR() {
        #expect(Terminal.colourAllowed(isTerminal: true, environment: [:]))
        #expect(!Terminal.colourAllowed(isTerminal: false, environment: [:]))
        #expect(!Terminal.colourAllowed(isTerminal: true, environment: ["NO_COLOR": ""]))
        #expect(!Terminal.colourAllowed(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(!Terminal.colourAllowed(isTerminal: true, environment: ["TERM": "dumb"]))
    }

    @Test func paintAndWidths() {
        let painted = Terminal(colour: true).paint("ok", .green)
        #expect(painted == "\u{1B}[32mok\u{1B}[0m")
        #expect(Terminal.plain.paint("ok", .green) == "ok")
        #expect(TextWidth.of(painted) == 2)
        #expect(TextWidth.of("▁▂█") == 3)
        #expect(TextWidth.pad(painted, to: 4) == painted + "  ")
        #expect(TextWidth.pad("7", to: 3, rightAlign: true) == "  7")
        #expect(TextWidth.truncate("abcdef", to: 4) == "abc…")
    }

    @Test func alignedRowsIgnoreEscapeCodes() {
        let red = Terminal(colour: true).paint("x", .red)
        let lines = TemplateContext.alignedRows([["name", "n"], [red, "10"]], rightAligned: [false, true])
        #expect(lines == ["name   n", red + "     10"])
    }
}
