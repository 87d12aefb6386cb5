import Crypto
import Foundation
import NewsCore
import Testing

/// The Merkle tree that timestamps batches of captures: RFC 6962's hashing, and paths that prove one leaf.
@Suite struct MerkleTreeTests {
    private func ids(_ count: Int) -> [ContentHash] { (0..<count).map { ContentHash(ofText: "capture \($0)") } }

    @Test func hashesAsRFC6962() throws {
        let leaves = ids(3)
        let leaf = try #require(
            ContentHash(hex: SHA256.hash(data: [0] + leaves[0].digest).map { String(format: "%02x", $0) }.joined()))
        #expect(MerkleTree.leaf(leaves[0]) == leaf)
        #expect(MerkleTree.root([leaves[0]]) == leaf)
        // Three leaves split after two: (0 1) 2.
        let left = MerkleTree.node(MerkleTree.leaf(leaves[0]), MerkleTree.leaf(leaves[1]))
        #expect(MerkleTree.root(leaves) == MerkleTree.node(left, MerkleTree.leaf(leaves[2])))
        #expect(MerkleTree.root([]) == nil)
        #expect(MerkleTree.root(leaves) != MerkleTree.root([leaves[1], leaves[0], leaves[2]]), "order matters")
    }

    @Test func everyLeafsPathLeadsToTheRootAndNoOtherDoes() throws {
        for count in 1...33 {
            let leaves = ids(count)
            let root = try #require(MerkleTree.root(leaves))
            for index in 0..<count {
                let path = MerkleTree.path(to: index, in: leaves)
                #expect(path.count <= Int(ceil(log2(Double(max(count, 1))))))
                #expect(MerkleTree.root(of: leaves[index], at: index, count: count, path: path) == root)
                // Climbing with the sides alone (as a proof's reader does) reaches the root too.
                let sides = MerkleTree.sidesOfPath(to: index, count: count)
                #expect(sides.count == path.count)
                let climbed = zip(path, sides).reduce(MerkleTree.leaf(leaves[index])) { hash, step in
                    step.1 ? MerkleTree.node(step.0, hash) : MerkleTree.node(hash, step.0)
                }
                #expect(climbed == root)
                // Another leaf, another place or a path one hash short does not lead there.
                #expect(MerkleTree.root(of: ContentHash(ofText: "other"), at: index, count: count, path: path) != root)
                if count > 1 {
                    #expect(MerkleTree.root(of: leaves[index], at: (index + 1) % count, count: count, path: path) != root)
                    #expect(MerkleTree.root(of: leaves[index], at: index, count: count, path: Array(path.dropLast())) == nil)
                }
            }
        }
    }

    @Test func aTimestampRecordWhoseRootIsNotItsCapturesTreeIsNotIntact() {
        var record = TimestampRecord(
            captures: ids(5), tsa: "http://127.0.0.1/tsa", token: Data([1, 2]), time: Date(), nodeID: "n")
        #expect(ArchiveItem.timestamp(record).isIntact)
        record.captures.removeLast()
        record.id = record.computedID
        #expect(record.isIntact && !ArchiveItem.timestamp(record).isIntact)
    }
}
