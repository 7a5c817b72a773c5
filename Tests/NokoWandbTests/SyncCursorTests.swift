import Foundation
import NokoCore
import NokoPlatform
import NokoTestSupport
import Testing
@testable import NokoWandb
import NokoRemoteSync

@Suite("The sync cursor")
struct SyncCursorTests {
    private func state(rows: Int64) -> SyncState {
        let spec = SyncState.RunSpec(
            runName: "run", startTime: 1_795_000_000, displayName: nil, group: nil, jobType: nil, tags: ["a"], notes: nil,
            host: "h", program: "p", commit: nil, repo: nil, config: ["lr": 0.1])
        var state = SyncState(
            mode: .online, baseURL: "http://127.0.0.1:1", runID: "abc", entity: "e", project: "p", url: nil, spec: spec,
            minimumLevel: nil, otherRanks: .skip)
        state.journals["noko.ndjson"] = .init(offset: rows * 100, rows: rows)
        state.historyLines = rows
        state.created = true
        return state
    }

    @Test("a crash between any two steps of saving sync/wandb.json leaves the old cursor or the new one")
    func theCursorSurvivesACrashAtEveryStep() throws {
        let directory = temporaryDirectory()
        let old = state(rows: 10)
        let new = state(rows: 20)
        try old.save(to: directory)
        var seen: Set<Int64> = []
        let steps = try interruptEveryStep(under: directory) {
            try new.save(to: directory)
        } check: { step in
            let read = try #require(try SyncState.load(from: directory), "step \(step): the cursor is missing")
            #expect(read == old || read == new, "step \(step): a reader saw neither the old nor the new cursor")
            seen.insert(read.historyLines)
            try old.save(to: directory)
        }
        // mkdir of sync/ (it exists), then the atomic writer's seven calls.
        #expect(steps >= 7)
        #expect(seen == [10, 20])
        #expect(try SyncState.load(from: directory) == new)
    }
}
