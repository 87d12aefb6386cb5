import CZstd
import Foundation

/// How blobs are stored: zstd-compressed when that is smaller, as they came otherwise.
enum BlobCodec {
    /// zstd level 3: about 4× on HTML at hundreds of MB/s (DESIGN.md measured 8 ms for a 1.9 MB page).
    static let level: Int32 = 3

    /// The stored form of `bytes` and its encoding name (`zstd` or `identity`).
    static func encode(_ bytes: Data) -> (data: Data, encoding: String) {
        guard bytes.count >= 64 else { return (bytes, "identity") }
        let bound = ZSTD_compressBound(bytes.count)
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                ZSTD_compress(out.baseAddress, bound, input.baseAddress, input.count, level)
            }
        }
        guard ZSTD_isError(written) == 0, written < bytes.count else { return (bytes, "identity") }
        output.count = written
        return (output, "zstd")
    }

    /// The original bytes of a stored blob of `size` bytes; throws if the stored form is damaged.
    static func decode(_ data: Data, encoding: String, size: Int) throws -> Data {
        switch encoding {
        case "identity":
            return data
        case "zstd":
            let declared = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
            guard declared != newsd_zstd_content_size_error(),
                declared == newsd_zstd_content_size_unknown() || declared == UInt64(size)
            else { throw IntegrityError("compressed blob declares \(declared) bytes, the archive says \(size)") }
            var output = Data(count: size)
            let written = output.withUnsafeMutableBytes { out in
                data.withUnsafeBytes { input in ZSTD_decompress(out.baseAddress, size, input.baseAddress, input.count) }
            }
            guard ZSTD_isError(written) == 0, written == size else {
                let reason = ZSTD_isError(written) != 0 ? String(cString: ZSTD_getErrorName(written)) : "\(written) bytes"
                throw IntegrityError("compressed blob does not decompress to \(size) bytes: \(reason)")
            }
            return output
        default:
            throw IntegrityError("unknown blob encoding \(encoding)")
        }
    }
}
