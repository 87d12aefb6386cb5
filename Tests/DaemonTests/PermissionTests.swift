import Foundation
import NewsCore
import NewsdTesting
import Testing

/// The control socket is the daemon's door for newsctl: mode 0660, so its group may use it and others may not.
@Suite(.timeLimit(.minutes(5))) struct PermissionTests {
    /// Runs newsctl as the unprivileged user `nobody`, in `groups`.
    private func asNobody(_ arguments: [String], groups: [Int]) async throws -> CommandResult {
        let newsctl = try #require(builtExecutable("newsctl"))
        let groupList = groups.isEmpty ? ["--clear-groups"] : ["--groups", groups.map(String.init).joined(separator: ",")]
        return try await runCommand(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=65534", "--regid=65534"] + groupList + [newsctl.path] + arguments)
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/usr/bin/setpriv"), "needs root and setpriv"))
    func aUserInTheSocketsGroupMayUseNewsctlAndOthersGetAClearError() async throws {
        let node = try await TestNode.start()
        let socket = node.config.controlSocket.path
        // The way to the socket is open (as /run/newsd is to the daemon's group); the socket itself is 0660 root:root.
        chmod(node.directory.path, 0o755)
        var info = stat()
        #expect(stat(socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o660)

        let outsider = try await asNobody(["status", "--socket", socket], groups: [])
        #expect(outsider.status == 1)
        #expect(outsider.stderr == "newsctl: permission denied on \(socket): join the daemon's group or run as its user\n")

        // The way to the socket closed (a runtime directory of mode 0750 that `nobody` is not in the group of): the
        // same reason, not "not running".
        chmod(node.directory.path, 0o750)
        let shutOut = try await asNobody(["status", "--socket", socket], groups: [])
        #expect(shutOut.status == 1)
        #expect(
            shutOut.stderr
                == "newsctl: permission denied on the way to \(socket): join the daemon's group or run as its user\n")
        chmod(node.directory.path, 0o755)

        // The socket's group is one `nobody` belongs to: newsctl works.
        #expect(chown(socket, 0, 65534) == 0)
        let member = try await asNobody(["status", "--json", "--socket", socket], groups: [65534])
        #expect(member.status == 0, "\(member.stderr)")
        let status = try JSONCoding.decoder().decode(StatusReport.self, from: Data(member.stdout.utf8))
        #expect(status.nodeID == node.nodeID)
        try await node.stop()
    }
}
