import Foundation
import NewsdTesting
import Testing

private let unitFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../systemd/newsd.service").standardizedFileURL

/// The unit as systemd itself reads it.
@Suite(.timeLimit(.minutes(5))) struct SystemdUnitTests {
    @Test func systemdAnalyzeVerifyAcceptsTheUnit() async throws {
        let analyze = try #require(
            ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].map(URL.init(fileURLWithPath:))
                .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "systemd-analyze is installed by .ci/run")
        let newsd = try #require(builtExecutable("newsd"))
        // verify checks that ExecStart names an executable: point it at the one just built.
        let unit = try String(contentsOf: unitFile, encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/newsd "))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("newsd.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/newsd", with: newsd.path).write(
            to: copy, atomically: true, encoding: .utf8)
        let result = try await runCommand(analyze, ["verify", copy.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func theSandboxExposureIsAtMostTwo() async throws {
        let analyze = try #require(
            ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].map(URL.init(fileURLWithPath:))
                .first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let newsd = try #require(builtExecutable("newsd"))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("newsd.service")
        let unit = try String(contentsOf: unitFile, encoding: .utf8)
        try unit.replacingOccurrences(of: "/usr/local/bin/newsd", with: newsd.path).write(
            to: copy, atomically: true, encoding: .utf8)
        let result = try await runCommand(analyze, ["security", "--offline=true", "--no-pager", copy.path])
        let line = try #require(
            result.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result.stdout)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 2.0, "\(line)")
    }
}
