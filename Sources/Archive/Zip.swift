import CZlib
public import Foundation

/// A ZIP file of stored (uncompressed) entries: what `unzip`, Python's zipfile and every desktop open. Entries are not
/// compressed: an evidence bundle's pages are what a reader hashes, and WACZ wants its WARC files stored, so that a
/// replayer can read a record at its offset. Written in memory, or to a file entry after entry (a WARC entry is
/// copied from its own file in pieces), with the central directory kept until the end.
public struct ZipWriter {
    private var memory = Data()
    private let file: FileHandle?
    private var written = 0
    private var central = Data()
    private var count = 0

    /// Why an archive cannot be written.
    public struct TooLarge: Error, CustomStringConvertible {
        public var description: String { "a ZIP file without ZIP64 holds at most 4 GiB and 65,535 entries" }
    }

    /// A ZIP file in memory, which ``finish()`` returns.
    public init() { file = nil }

    /// A ZIP file written to `file` as entries are added.
    public init(writingTo file: FileHandle) { self.file = file }

    /// Adds a file named `path` (UTF-8, `/` between folders) holding `contents`.
    public mutating func add(_ path: String, _ contents: Data) throws {
        try entry(path, size: contents.count, crc: Self.crc(contents, 0))
        try write(contents)
    }

    /// Adds a file named `path` holding what the file at `source` holds, read in pieces (twice: for its CRC-32, then
    /// to copy it).
    public mutating func add(_ path: String, copying source: URL) throws {
        var crc: UInt = 0
        var size = 0
        try Self.pieces(of: source) { piece in
            crc = Self.crc(piece, crc)
            size += piece.count
        }
        try entry(path, size: size, crc: crc)
        try Self.pieces(of: source) { piece in try write(piece) }
    }

    /// Writes the central directory; returns the file when it was made in memory.
    public mutating func finish() throws -> Data {
        guard written + central.count + 22 < UInt32.max else { throw TooLarge() }
        var end = Data()
        end.append(le32: 0x0605_4B50)
        end.append(le16: 0)
        end.append(le16: 0)
        end.append(le16: UInt16(count))
        end.append(le16: UInt16(count))
        end.append(le32: UInt32(central.count))
        end.append(le32: UInt32(written))
        end.append(le16: 0)
        try write(central + end)
        return memory
    }

    /// The local header of an entry; its central directory record is kept for ``finish()``.
    private mutating func entry(_ path: String, size: Int, crc: UInt) throws {
        let name = Data(path.utf8)
        guard size < UInt32.max, written + size + name.count + 30 < UInt32.max, count < 65_535 else { throw TooLarge() }
        let offset = UInt32(written)
        // Version 2.0, UTF-8 names, stored, no time (1980-01-01): the same bytes for the same contents.
        var local = Data()
        local.append(le32: 0x0403_4B50)
        local.append(le16: 20)
        local.append(le16: 0x0800)
        local.append(le16: 0)
        local.append(le16: 0)
        local.append(le16: 0x21)
        local.append(le32: UInt32(crc))
        local.append(le32: UInt32(size))
        local.append(le32: UInt32(size))
        local.append(le16: UInt16(name.count))
        local.append(le16: 0)
        try write(local + name)

        central.append(le32: 0x0201_4B50)
        central.append(le16: 0x031E)
        central.append(local[4..<30])
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le16: 0)
        central.append(le32: 0o100644 << 16)
        central.append(le32: offset)
        central.append(name)
        count += 1
    }

    private mutating func write(_ data: Data) throws {
        if let file { try file.write(contentsOf: data) } else { memory.append(data) }
        written += data.count
    }

    private static func crc(_ data: Data, _ running: UInt) -> UInt {
        data.withUnsafeBytes { bytes in crc32(running, bytes.bindMemory(to: UInt8.self).baseAddress, uInt(bytes.count)) }
    }

    private static func pieces(of source: URL, _ body: (Data) throws -> Void) throws {
        let handle = try FileHandle(forReadingFrom: source)
        defer { try? handle.close() }
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { try body(piece) }
    }
}

extension Data {
    fileprivate mutating func append(le16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func append(le32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
