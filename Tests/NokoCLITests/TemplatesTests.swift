import Foundation
import NokoCore
import Testing

@testable import NokoCLI

@Suite struct TemplatesTests {
    static let templatesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates")

    /// The generated Swift file must hold exactly the files in templates/: run
    /// `scripts/embed-templates` after editing a template.
    @Test func embeddedTemplatesMatchTheTemplatesFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.templatesDirectory.path).filter { $0.hasSuffix(".mustache") }
        var onDisk: [String: String] = [:]
        for file in files {
            onDisk[String(file.dropLast(".mustache".count))] = try String(
                contentsOf: Self.templatesDirectory.appendingPathComponent(file), encoding: .utf8)
        }
        #expect(!onDisk.isEmpty)
        #expect(Set(onDisk.keys) == Set(Templates.names), "templates/ and EmbeddedTemplates.swift list different templates: run scripts/embed-templates")
        for (name, text) in onDisk {
            #expect(Templates.text(named: name) == text, "templates/\(name).mustache changed: run scripts/embed-templates")
        }
    }

    @Test func theGeneratorAgreesWithTheCommittedFile() throws {
        let script = Self.templatesDirectory.deletingLastPathComponent().appendingPathComponent("scripts/embed-templates")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--check"]
        process.standardError = Pipe()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "Sources/NokoCLI/Templates/EmbeddedTemplates.swift is out of date: run scripts/embed-templates")
    }

    @Test func textIsNotEscapedButHTMLIs() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("noko-template-\(UUID().uuidString).mustache")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("{{value}}".utf8).write(to: file)
        #expect(try Templates.render("x", context: ["value": "a<b & 'c'"], templateFile: file.path) == "a<b & 'c'")
        #expect(try Templates.render("x", context: ["value": "a<b"], templateFile: file.path, escaping: .html) == "a&lt;b")
    }

    @Test func colourLambdas() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("noko-template-\(UUID().uuidString).mustache")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("{{#red}}{{word}}{{/red}}!".utf8).write(to: file)
        var context = TemplateContext.styles(Terminal(colour: true))
        context["word"] = "stop"
        #expect(try Templates.render("x", context: context, templateFile: file.path) == "\u{1B}[31mstop\u{1B}[0m!")
        context = TemplateContext.styles(.plain)
        context["word"] = "stop"
        #expect(try Templates.render("x", context: context, templateFile: file.path) == "stop!")
    }

    @Test func builtInTemplatesCanBePartials() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("noko-template-\(UUID().uuidString).mustache")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("[{{> list.txt}}]".utf8).write(to: file)
        #expect(try Templates.render("x", context: ["runs_dir": "r"], templateFile: file.path) == "[no runs in r (a run directory has a metadata.json)\n]")
    }

    @Test func errorsNameTheTemplate() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("noko-template-\(UUID().uuidString).mustache")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("line one\n{{#open}}never closed\n".utf8).write(to: file)
        #expect(throws: CLIError.self) { try Templates.render("x", context: [:], templateFile: file.path) }
        do {
            _ = try Templates.render("x", context: [:], templateFile: file.path)
        } catch {
            #expect("\(error)".hasPrefix("\(file.path):"))
            #expect("\(error)".contains("not a valid Mustache template"))
        }
        #expect(throws: CLIError("/nonexistent.mustache: no such template file")) {
            try Templates.render("x", context: [:], templateFile: "/nonexistent.mustache")
        }
        #expect(throws: CLIError("no built-in template named nope; known: \(Templates.names.joined(separator: ", "))")) {
            try Templates.render("nope", context: [:])
        }
    }
}
