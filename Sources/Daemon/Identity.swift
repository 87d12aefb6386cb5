public import Foundation
public import NewsCore
import Synchronization

/// This node's Ed25519 key pair, kept in `node.key` (mode 0600) in the data directory.
///
/// The node id is the SHA-256 of the raw public key, in hex.
public struct NodeIdentity: Sendable {
    /// The key that signs this node's captures.
    public let key: NodeKey
    /// SHA-256 of the public key, in hex.
    public let nodeID: String

    /// Loads the key in `directory`, creating it on first start.
    public init(directory: URL) throws {
        let file = directory.appendingPathComponent("node.key")
        if let existing = try? Data(contentsOf: file) {
            guard let loaded = try? NodeKey(rawRepresentation: existing) else {
                throw DaemonError("\(file.path) is not an Ed25519 private key; move it away to create a new identity")
            }
            key = loaded
        } else {
            key = NodeKey()
            try writeSecret(key.rawRepresentation, to: file)
        }
        nodeID = key.record.id.hex
    }
}

/// Writes a private key to `file`, readable by its owner only, whole or not at all.
func writeSecret(_ data: Data, to file: URL) throws {
    let temporary = file.appendingPathExtension("tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600])
    else { throw DaemonError("cannot write \(temporary.path)") }
    guard rename(temporary.path, file.path) == 0 else {
        throw DaemonError("cannot create \(file.path): \(String(cString: strerror(errno)))")
    }
}

/// An error that stops the daemon from starting, in one line.
public struct DaemonError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// An exclusive lock on the data directory, so that two daemons never share an archive or a socket.
final class DirectoryLock: Sendable {
    private let descriptor: Mutex<Int32?>

    init(directory: URL) throws {
        let path = directory.appendingPathComponent("newsd.lock").path
        let file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw DaemonError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else {
            close(file)
            throw DaemonError("another newsd is already running with data directory \(directory.path)")
        }
        descriptor = Mutex(file)
    }

    /// Lets another daemon use the directory.
    func release() {
        descriptor.withLock { file in
            guard let open = file else { return }
            flock(open, LOCK_UN)
            close(open)
            file = nil
        }
    }

    deinit { release() }
}
