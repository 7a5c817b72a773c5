import Testing

@testable import NokoCLI

@Suite struct ReportSVGTextTests {
    @Test func coordinatesAreShortAndRoundedToTenths() {
        var svg = SVGText()
        for v in [12.34, 12.35, -4.0, 0.04, -0.04, 0.96, 330, -0.15] {
            svg.number(v)
            svg.raw(" ")
        }
        #expect(svg.text == "12.3 12.4 -4 0 0 1 330 -0.2 ")
    }

    @Test func nonFiniteCoordinatesAreNotHidden() {
        var svg = SVGText()
        svg.number(.nan)
        #expect(svg.text == "nan")
    }

    @Test func textIsEscaped() {
        #expect(SVGText.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;")
        #expect(SVGText.escape("plain") == "plain")
    }
}
