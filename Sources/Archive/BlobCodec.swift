import CZstd
public import Foundation
import NewsCore
import Synchronization

/// How blobs are stored: zstd-compressed when that is smaller, as they came otherwise; a page may be compressed with a
/// dictionary (``Archive/buildDictionaries()``), itself a blob, named in the encoding (`zstd:HASH`).
enum BlobCodec {
    /// zstd level 1 as pages arrive: 4.7× on HTML at about 500 MB/s a core, so a burst of pages is stored fast.
    static let ingestLevel: Int32 = 1
    /// zstd level 9 for pages compressed once and kept so (pages from peers and imports, into an archive without
    /// dictionaries): 5.5× on HTML, about 2 ms for a 183 KB page.
    static let compactLevel: Int32 = 9
    /// zstd level 19 for pages recompressed with a dictionary while newsd is idle (``Archive/compactBlobs(limit:)``;
    /// without one, level 9): 1-6 % fewer bytes than level 9 on real pages, kept and sent to peers, for 2.5 times the
    /// idle work (docs/DECISIONS.md, "zstd dictionaries").
    static let idleLevel: Int32 = 19
    /// zstd level 19 for dictionaries: made once, and a host's dictionary is its first pages.
    static let dictionaryLevel: Int32 = 19

    /// What the encoding of a blob compressed with a dictionary begins with; the dictionary's hash follows.
    static let dictionaryEncoding = "zstd:"

    /// The bytes of the dictionary a hash names, or `nil` when the archive holds no such dictionary.
    typealias DictionaryLookup = (ContentHash) throws -> Data?

    /// The stored form of `bytes` at `level` and its encoding name (`zstd`, `zstd:HASH` with `dictionary`, or
    /// `identity`).
    static func encode(
        _ bytes: Data, level: Int32, dictionary: (hash: ContentHash, bytes: Data)? = nil
    ) -> (data: Data, encoding: String) {
        encode(bytes, level: level, prepared: dictionary.map { prepared($0, level: level) })
    }

    /// The stored form of `bytes` compressed with `prepared` (at its level), or at `level` without a dictionary.
    static func encode(_ bytes: Data, level: Int32, prepared: PreparedDictionary?) -> (data: Data, encoding: String) {
        guard bytes.count >= 64 else { return (bytes, "identity") }
        guard let prepared else { return Zstd.compress(bytes, level: level).map { ($0, "zstd") } ?? (bytes, "identity") }
        return Zstd.compress(bytes, with: prepared).map { ($0, dictionaryEncoding + prepared.hash.hex) }
            ?? (bytes, "identity")
    }

    /// `dictionary` made ready to compress with at `level`: the one kept from before, or made now (outside the lock:
    /// at level 19 that takes a fifth of a second for 1 MiB, and every page arriving would wait for it).
    static func prepared(_ dictionary: (hash: ContentHash, bytes: Data), level: Int32) -> PreparedDictionary {
        let kept = preparedDictionaries.withLock { prepared in
            prepared.first { $0.hash == dictionary.hash && $0.level == level }
        }
        if let kept { return kept }
        let made = PreparedDictionary(hash: dictionary.hash, bytes: dictionary.bytes, level: level)
        return preparedDictionaries.withLock { prepared in
            if let kept = prepared.first(where: { $0.hash == dictionary.hash && $0.level == level }) { return kept }
            // A prepared dictionary holds its own match tables (33 MiB for a host's of 1 MiB at idle's level 19, 13
            // MiB at level 9, 1 MiB at ingest's level): a few are kept at each level, the latest.
            let atLevel = prepared.indices.filter { prepared[$0].level == level }
            if atLevel.count >= (level <= ingestLevel ? 16 : 2) { prepared.remove(at: atLevel[0]) }
            prepared.append(made)
            return made
        }
    }

    /// Lets go of the dictionaries made ready to compress with at `level` (see ``prepared(_:level:)``).
    static func releasePreparedDictionaries(at level: Int32) {
        preparedDictionaries.withLock { $0.removeAll { $0.level == level } }
    }

    /// Dictionaries made ready to compress with, so that each page does not index its dictionary again (which took
    /// six times as long as compressing a page with it, at level 9).
    private static let preparedDictionaries = Mutex<[PreparedDictionary]>([])

    /// The dictionary an encoding names, if it names one (`zstd:HASH`).
    static func dictionary(of encoding: String) -> ContentHash? {
        guard encoding.hasPrefix(dictionaryEncoding) else { return nil }
        return ContentHash(hex: String(encoding.dropFirst(dictionaryEncoding.count)))
    }

    /// The original bytes of a stored blob of `size` bytes; throws if the stored form is damaged, or names a
    /// dictionary `dictionaries` does not hold.
    static func decode(
        _ data: Data, encoding: String, size: Int, dictionaries: DictionaryLookup = { _ in nil }
    ) throws -> Data {
        var dictionary: Data?
        if encoding.hasPrefix(dictionaryEncoding) {
            guard let hash = Self.dictionary(of: encoding) else { throw IntegrityError("unknown blob encoding \(encoding)") }
            guard let bytes = try dictionaries(hash) else {
                throw IntegrityError("compressed with dictionary \(hash), which the archive does not hold")
            }
            dictionary = bytes
        }
        if encoding == "identity" {
            // A size taken on trust would be served onwards and counted in the archive's size.
            guard data.count == size else { throw IntegrityError("blob of \(data.count) bytes claims \(size)") }
            return data
        }
        guard encoding == "zstd" || dictionary != nil else { throw IntegrityError("unknown blob encoding \(encoding)") }
        let declared = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared != newsd_zstd_content_size_error(),
            declared == newsd_zstd_content_size_unknown() || declared == UInt64(size)
        else { throw IntegrityError("compressed blob declares \(declared) bytes, the archive says \(size)") }
        var output = Data(count: size)
        let written = decompressors.use { decompressor in
            output.withUnsafeMutableBytes { out in
                data.withUnsafeBytes { input in
                    guard let dictionary else {
                        return ZSTD_decompressDCtx(
                            decompressor.context, out.baseAddress, size, input.baseAddress, input.count)
                    }
                    return dictionary.withUnsafeBytes { dictionary in
                        ZSTD_decompress_usingDict(
                            decompressor.context, out.baseAddress, size, input.baseAddress, input.count,
                            dictionary.baseAddress, dictionary.count)
                    }
                }
            }
        }
        guard ZSTD_isError(written) == 0, written == size else {
            let reason = ZSTD_isError(written) != 0 ? String(cString: ZSTD_getErrorName(written)) : "\(written) bytes"
            throw IntegrityError("compressed blob does not decompress to \(size) bytes: \(reason)")
        }
        return output
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
        compress(bytes, level: level, windowLog: windowLog, with: nil)
    }

    /// `bytes` compressed as one zstd frame with `dictionary`, at the level it was prepared for; `nil` when not smaller.
    static func compress(_ bytes: Data, with dictionary: PreparedDictionary) -> Data? {
        compress(bytes, level: dictionary.level, windowLog: nil, with: dictionary)
    }

    private static func compress(
        _ bytes: Data, level: Int32, windowLog: Int32?, with dictionary: PreparedDictionary?
    ) -> Data? {
        BlobCodec.compressors.use { compressor -> Data? in
            let bound = ZSTD_compressBound(bytes.count)
            if compressor.output.count < bound { compressor.output = [UInt8](repeating: 0, count: bound) }
            defer { if compressor.output.count > BlobCodec.keptOutput { compressor.output = [] } }
            let written = compressor.output.withUnsafeMutableBytes { out in
                bytes.withUnsafeBytes { input in
                    if let dictionary {
                        return ZSTD_compress_usingCDict(
                            compressor.context, out.baseAddress, bound, input.baseAddress, input.count,
                            dictionary.prepared)
                    }
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

    /// A dictionary of at most `capacity` bytes trained on `samples` (libzstd's `ZDICT_trainFromBuffer`), or `nil` when
    /// the samples are too few or too alike to train on.
    public static func trainDictionary(on samples: [Data], capacity: Int) -> Data? {
        var joined = Data(capacity: samples.reduce(0) { $0 + $1.count })
        for sample in samples { joined.append(sample) }
        let sizes = samples.map { $0.count }
        var dictionary = Data(count: capacity)
        let written = dictionary.withUnsafeMutableBytes { out in
            joined.withUnsafeBytes { input in
                ZDICT_trainFromBuffer(out.baseAddress, capacity, input.baseAddress, sizes, UInt32(sizes.count))
            }
        }
        guard ZDICT_isError(written) == 0 else { return nil }
        return dictionary.prefix(written)
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

/// A dictionary made ready to compress with at one level (a zstd `CDict`). Sendable unchecked: libzstd only reads it
/// once made, from any number of threads.
final class PreparedDictionary: @unchecked Sendable {
    let hash: ContentHash
    let level: Int32
    let prepared: OpaquePointer

    init(hash: ContentHash, bytes: Data, level: Int32) {
        self.hash = hash
        self.level = level
        prepared = bytes.withUnsafeBytes { ZSTD_createCDict($0.baseAddress, $0.count, level) }
    }

    deinit { ZSTD_freeCDict(prepared) }
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
