import CZlib
public import Foundation

/// A ZIP file of stored (uncompressed) entries: what `unzip`, Python's zipfile and every desktop open. Entries are not
/// compressed: an evidence bundle's pages are what a reader hashes, and they open the same in any tool.
public struct ZipWriter {
    private var data = Data()
    private var central = Data()
    private var count = 0

    /// Why an archive cannot be written.
    public struct TooLarge: Error, CustomStringConvertible {
        public var description: String { "a ZIP file without ZIP64 holds at most 4 GiB and 65,535 entries" }
    }

    public init() {}

    /// Adds a file named `path` (UTF-8, `/` between folders) holding `contents`.
    public mutating func add(_ path: String, _ contents: Data) throws {
        let name = Data(path.utf8)
        guard contents.count < UInt32.max, data.count + contents.count + name.count + 30 < UInt32.max, count < 65_535 else {
            throw TooLarge()
        }
        let crc = contents.withUnsafeBytes { bytes in
            UInt32(crc32(0, bytes.bindMemory(to: UInt8.self).baseAddress, uInt(bytes.count)))
        }
        let offset = UInt32(data.count)
        // Version 2.0, UTF-8 names, stored, no time (1980-01-01): the same bundle bytes for the same evidence.
        var local = Data()
        local.append(le32: 0x0403_4B50)
        local.append(le16: 20)
        local.append(le16: 0x0800)
        local.append(le16: 0)
        local.append(le16: 0)
        local.append(le16: 0x21)
        local.append(le32: crc)
        local.append(le32: UInt32(contents.count))
        local.append(le32: UInt32(contents.count))
        local.append(le16: UInt16(name.count))
        local.append(le16: 0)
        data.append(local)
        data.append(name)
        data.append(contents)

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

    /// The finished file.
    public consuming func finish() throws -> Data {
        guard data.count + central.count + 22 < UInt32.max else { throw TooLarge() }
        var end = Data()
        end.append(le32: 0x0605_4B50)
        end.append(le16: 0)
        end.append(le16: 0)
        end.append(le16: UInt16(count))
        end.append(le16: UInt16(count))
        end.append(le32: UInt32(central.count))
        end.append(le32: UInt32(data.count))
        end.append(le16: 0)
        return data + central + end
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
