import CZstd
public import Foundation
import Synchronization

/// How blobs are stored: zstd-compressed when that is smaller, as they came otherwise.
enum BlobCodec {
    /// zstd level 1 as pages arrive: 4.7× on HTML at about 500 MB/s a core, so a burst of pages is stored fast.
    static let ingestLevel: Int32 = 1
    /// zstd level 9 for pages recompressed while newsd is idle (``Archive/compactBlobs(limit:)``): 5.5× on HTML, about
    /// 2 ms for a 183 KB page; smaller archives, and fewer bytes for peers over bad links.
    static let compactLevel: Int32 = 9

    /// The stored form of `bytes` at `level` and its encoding name (`zstd` or `identity`).
    static func encode(_ bytes: Data, level: Int32) -> (data: Data, encoding: String) {
        guard bytes.count >= 64 else { return (bytes, "identity") }
        return Zstd.compress(bytes, level: level).map { ($0, "zstd") } ?? (bytes, "identity")
    }

    /// The original bytes of a stored blob of `size` bytes; throws if the stored form is damaged.
    static func decode(_ data: Data, encoding: String, size: Int) throws -> Data {
        switch encoding {
        case "identity":
            // A size taken on trust would be served onwards and counted in the archive's size.
            guard data.count == size else { throw IntegrityError("blob of \(data.count) bytes claims \(size)") }
            return data
        case "zstd":
            let declared = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
            guard declared != newsd_zstd_content_size_error(),
                declared == newsd_zstd_content_size_unknown() || declared == UInt64(size)
            else { throw IntegrityError("compressed blob declares \(declared) bytes, the archive says \(size)") }
            var output = Data(count: size)
            let written = decompressors.use { decompressor in
                output.withUnsafeMutableBytes { out in
                    data.withUnsafeBytes { input in
                        ZSTD_decompressDCtx(decompressor.context, out.baseAddress, size, input.baseAddress, input.count)
                    }
                }
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

    /// Output buffers up to this size stay with their context; larger ones (rare big pages) are let go.
    fileprivate static let keptOutput = 1 << 20

    /// Contexts are made once and reused: making one per page (as `ZSTD_compress` does) cost a tenth of compressing a
    /// page, in allocation and page faults.
    fileprivate static let compressors = ContextPool<Compressor>()
    fileprivate static let decompressors = ContextPool<Decompressor>()

    /// A zstd compression context and its output buffer.
    fileprivate final class Compressor: ZstdContext, @unchecked Sendable {
        let context = ZSTD_createCCtx()
        var output: [UInt8] = []
        deinit { ZSTD_freeCCtx(context) }
    }

    /// A zstd decompression context.
    fileprivate final class Decompressor: ZstdContext, @unchecked Sendable {
        let context = ZSTD_createDCtx()
        deinit { ZSTD_freeDCtx(context) }
    }
}

/// zstd in one call, with contexts that are reused.
public enum Zstd {
    /// `bytes` compressed as one zstd frame at `level`, or `nil` when that is not smaller. With `windowLog`, matches
    /// reach back 2^windowLog bytes instead of the level's own window (libzstd's decoders accept up to 2^27 unasked).
    public static func compress(_ bytes: Data, level: Int32, windowLog: Int32? = nil) -> Data? {
        BlobCodec.compressors.use { compressor -> Data? in
            let bound = ZSTD_compressBound(bytes.count)
            if compressor.output.count < bound { compressor.output = [UInt8](repeating: 0, count: bound) }
            defer { if compressor.output.count > BlobCodec.keptOutput { compressor.output = [] } }
            let written = compressor.output.withUnsafeMutableBytes { out in
                bytes.withUnsafeBytes { input in
                    guard let windowLog else {
                        return ZSTD_compressCCtx(
                            compressor.context, out.baseAddress, bound, input.baseAddress, input.count, level)
                    }
                    // Parameters stick to a context: set for this call, and taken off again for the next user.
                    defer { ZSTD_CCtx_reset(compressor.context, ZSTD_reset_session_and_parameters) }
                    ZSTD_CCtx_setParameter(compressor.context, ZSTD_c_compressionLevel, level)
                    ZSTD_CCtx_setParameter(compressor.context, ZSTD_c_windowLog, windowLog)
                    return ZSTD_compress2(compressor.context, out.baseAddress, bound, input.baseAddress, input.count)
                }
            }
            guard ZSTD_isError(written) == 0, written < bytes.count else { return nil }
            return Data(compressor.output[..<written])
        }
    }

    /// The bytes the zstd frames in `data` hold; throws when `data` is not whole zstd frames or holds more than `limit`
    /// bytes (what a frame header declares is not taken on trust: output stops at the limit).
    public static func decompress(_ data: Data, upTo limit: Int) throws -> Data {
        try BlobCodec.decompressors.use { decompressor in
            ZSTD_DCtx_reset(decompressor.context, ZSTD_reset_session_only)
            var output = Data()
            var chunk = [UInt8](repeating: 0, count: 1 << 17)
            var pending = 0
            try data.withUnsafeBytes { bytes in
                var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
                while true {
                    let written = try chunk.withUnsafeMutableBytes { out in
                        var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                        pending = ZSTD_decompressStream(decompressor.context, &buffer, &input)
                        if ZSTD_isError(pending) != 0 {
                            throw IntegrityError("not zstd: \(String(cString: ZSTD_getErrorName(pending)))")
                        }
                        return buffer.pos
                    }
                    guard output.count + written <= limit else {
                        throw IntegrityError("decompresses to more than \(limit) bytes")
                    }
                    output.append(contentsOf: chunk[..<written])
                    // Done when all input is read and the output did not fill the chunk (nothing is left to flush).
                    if input.pos == input.size && written < chunk.count { break }
                }
            }
            guard pending == 0 else { throw IntegrityError("the zstd frame is cut short") }
            return output
        }
    }
}

/// A zstd context. Sendable unchecked: one caller at a time uses it, between taking it from its pool and putting it back.
private protocol ZstdContext: AnyObject, Sendable {
    init()
}

/// Idle contexts, handed out one caller at a time; as many exist as were ever in use at once.
private final class ContextPool<Context: ZstdContext>: Sendable {
    private let idle = Mutex<[Context]>([])

    /// Runs `body` with a context no one else is using.
    func use<Result>(_ body: (Context) throws -> Result) rethrows -> Result {
        let context = idle.withLock { $0.popLast() } ?? Context()
        defer { idle.withLock { $0.append(context) } }
        return try body(context)
    }
}
