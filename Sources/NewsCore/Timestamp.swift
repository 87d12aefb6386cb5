import Crypto
public import Foundation

/// A Merkle tree over record ids, as RFC 6962 (Certificate Transparency) hashes one: a leaf is SHA-256 of a zero byte
/// and the id's 32 bytes, an inner node SHA-256 of a one byte and its two children; a tree of n > 1 leaves splits
/// after the largest power of two below n. One timestamp of the root vouches for every leaf, each with a path of
/// log₂ n hashes.
public enum MerkleTree {
    /// The hash of the leaf for `id`.
    public static func leaf(_ id: ContentHash) -> ContentHash {
        hash(prefix: 0, id.digest)
    }

    /// The hash of an inner node over `left` and `right`.
    public static func node(_ left: ContentHash, _ right: ContentHash) -> ContentHash {
        hash(prefix: 1, left.digest + right.digest)
    }

    /// The root of the tree whose leaves are `ids`, in order; `nil` for no leaves.
    public static func root(_ ids: [ContentHash]) -> ContentHash? {
        ids.isEmpty ? nil : root(ids[...])
    }

    /// The hashes that lead from the leaf at `index` to the root, nearest first (RFC 6962's audit path).
    public static func path(to index: Int, in ids: [ContentHash]) -> [ContentHash] {
        precondition(ids.indices.contains(index))
        return path(to: index, in: ids[...])
    }

    /// For each hash of ``path(to:in:)``, whether it is the left child (the one its sibling is hashed after).
    public static func sidesOfPath(to index: Int, count: Int) -> [Bool] {
        guard count > 1 else { return [] }
        let split = largestPowerOfTwo(below: count)
        return index < split
            ? sidesOfPath(to: index, count: split) + [false] : sidesOfPath(to: index - split, count: count - split) + [true]
    }

    /// The root that the leaf `id` at `index` of `count` leaves and its `path` lead to; `nil` when the path does not fit.
    public static func root(of id: ContentHash, at index: Int, count: Int, path: [ContentHash]) -> ContentHash? {
        guard index >= 0, index < count else { return nil }
        var remaining = path[...]
        func climb(_ index: Int, _ count: Int) -> ContentHash? {
            guard count > 1 else { return leaf(id) }
            let split = largestPowerOfTwo(below: count)
            // The path holds the sibling subtrees from the leaf up: descend first, then take this level's sibling last.
            let below = index < split ? climb(index, split) : climb(index - split, count - split)
            guard let below, let sibling = remaining.popFirst() else { return nil }
            return index < split ? node(below, sibling) : node(sibling, below)
        }
        let result = climb(index, count)
        return remaining.isEmpty ? result : nil
    }

    private static func root(_ ids: ArraySlice<ContentHash>) -> ContentHash {
        guard ids.count > 1 else { return leaf(ids[ids.startIndex]) }
        let split = ids.startIndex + largestPowerOfTwo(below: ids.count)
        return node(root(ids[..<split]), root(ids[split...]))
    }

    private static func path(to index: Int, in ids: ArraySlice<ContentHash>) -> [ContentHash] {
        guard ids.count > 1 else { return [] }
        let split = largestPowerOfTwo(below: ids.count)
        let left = ids.prefix(split)
        let right = ids.dropFirst(split)
        return index < split
            ? path(to: index, in: left) + [root(right)] : path(to: index - split, in: right) + [root(left)]
    }

    private static func largestPowerOfTwo(below count: Int) -> Int {
        var power = 1
        while power * 2 < count { power *= 2 }
        return power
    }

    private static func hash(prefix: UInt8, _ bytes: Data) -> ContentHash {
        var hasher = SHA256()
        hasher.update(data: [prefix])
        hasher.update(data: bytes)
        return ContentHash(digest: hasher.finalize())
    }
}

/// A trusted time for a batch of captures: an RFC 3161 timestamp token from a time-stamping authority over the root of
/// a ``MerkleTree`` of their ids, kept by the node that asked for it and signed by it, so that it syncs like the other
/// records. A capture's proof of time is its path to `root` and the token.
public struct TimestampRecord: SignedRecord, Hashable {
    public var id: ContentHash
    /// The captures' ids, the tree's leaves in order.
    public var captures: [ContentHash]
    /// The tree's root: the SHA-256 digest the token's message imprint holds.
    public var root: ContentHash
    /// The authority's URL, as configured where the token was asked for.
    public var tsa: String
    /// The DER-encoded TimeStampToken (a CMS SignedData), in base64.
    public var token: String
    /// The time the token states (its `genTime`), as a record timestamp.
    public var time: String
    public var nodeID: String
    public var signature: String?

    public init(captures: [ContentHash], tsa: String, token: Data, time: Date, nodeID: String) {
        self.id = ContentHash(of: Data())
        self.captures = captures
        self.root = MerkleTree.root(captures) ?? ContentHash(of: Data())
        self.tsa = tsa
        self.token = token.base64EncodedString()
        self.time = Canonical.timestamp(time)
        self.nodeID = nodeID
        self.id = computedID
    }

    /// The token's DER bytes; `nil` when `token` is not base64.
    public var tokenBytes: Data? { Data(base64Encoded: token) }

    /// The path from `capture` to `root` and its place among the leaves, if the batch holds it.
    public func proof(of capture: ContentHash) -> (index: Int, path: [ContentHash])? {
        captures.firstIndex(of: capture).map { ($0, MerkleTree.path(to: $0, in: captures)) }
    }

    public func writeCanonicalFields(to writer: inout CanonicalWriter) {
        writer.field("captures", captures)
        writer.field("nodeID", nodeID)
        writer.field("root", root)
        writer.field("time", time)
        writer.field("token", token)
        writer.field("tsa", tsa)
    }
}
