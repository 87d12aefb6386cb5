import Foundation
import NewsCore
import NewsdTesting
import Testing

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
    .standardizedFileURL

/// `make install` and `make uninstall`, into a temporary root.
@Suite(.timeLimit(.minutes(5))) struct InstallTests {
    @Test func installPutsEverythingInPlaceAndUninstallLeavesConfigAndArchive() async throws {
        let make = URL(fileURLWithPath: "/usr/bin/make")
        try #require(FileManager.default.isExecutableFile(atPath: make.path), "make is installed by scripts/install-deps")
        let built = try #require(builtExecutable("newsd")).deletingLastPathComponent()
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let common = ["-C", repository.path, "DESTDIR=\(root.path)", "BIN_DIR=\(built.path)", "SKIP_BUILD=1", "NO_MAN=1"]
        // The first install runs with the source tree mounted read-only (in a mount namespace of its own): it must
        // write nothing there.
        let readOnly = "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" \"$0\" && exec \"$@\""
        let install = try await runCommand(
            URL(fileURLWithPath: "/usr/bin/unshare"),
            ["--mount", "--propagation", "private", "sh", "-c", readOnly, repository.path, make.path, "install"] + common)
        #expect(install.status == 0, "\(install.stderr)")
        let files = [
            "usr/local/bin/newsd", "usr/local/bin/newsctl", "etc/systemd/system/newsd.service", "etc/newsd/newsd.toml",
            "usr/local/share/bash-completion/completions/newsctl", "usr/local/share/zsh/site-functions/_newsctl",
            "usr/local/share/fish/vendor_completions.d/newsctl.fish",
        ]
        for file in files { #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file)") }
        let bash = try String(contentsOf: root.appendingPathComponent(files[4]), encoding: .utf8)
        #expect(bash.contains("newsctl") && bash.contains("feeds"))
        // The installed config is valid as it stands.
        _ = try NewsdConfig.load(path: root.appendingPathComponent("etc/newsd/newsd.toml").path)

        // A config the user edited is not overwritten by a second install.
        let config = root.appendingPathComponent("etc/newsd/newsd.toml")
        try "# edited\nlisten = \"\"\n".write(to: config, atomically: true, encoding: .utf8)
        #expect(try await runCommand(make, ["install"] + common).status == 0)
        #expect(try String(contentsOf: config, encoding: .utf8).hasPrefix("# edited"))

        let archive = root.appendingPathComponent("var/lib/newsd/archive.sqlite")
        try FileManager.default.createDirectory(at: archive.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("archive".utf8).write(to: archive)
        let uninstall = try await runCommand(make, ["uninstall"] + common)
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for file in files where !file.hasPrefix("etc/newsd") {
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file)")
        }
        #expect(FileManager.default.fileExists(atPath: config.path))
        #expect(FileManager.default.fileExists(atPath: archive.path))
    }
}
