/// A MinHash fingerprint of a text's word 4-shingles: 128 minima, one per hash function.
///
/// Two fingerprints agree in a fraction of positions that estimates the Jaccard similarity of the
/// texts' shingle sets. Split into 64 bands of 2, they give locality-sensitive buckets in which texts
/// with Jaccard similarity above about 0.12 meet with high probability.
public struct MinHash: Sendable, Equatable {
    /// Hash functions, and so minima.
    public static let count = 128
    /// Rows per band.
    public static let rows = 2
    /// Words per shingle.
    public static let shingleWords = 4

    /// The minima.
    public let values: [UInt32]
    /// How many distinct shingles the text had.
    public let shingles: Int

    /// The fingerprint of `text` (its words lowercased; punctuation ignored).
    public init(text: String) {
        let words = Self.wordHashes(text)
        var shingles = Set<UInt64>()
        if words.count >= Self.shingleWords {
            for start in 0...(words.count - Self.shingleWords) {
                var hash: UInt64 = 0
                for word in words[start..<(start + Self.shingleWords)] { hash = Self.mix(hash ^ word) }
                shingles.insert(hash)
            }
        }
        // The hot loop of filing a text: on raw buffers, branch-free, so that it runs without bounds checks and the
        // compiler may keep several lanes in flight.
        var minima = [UInt32](repeating: .max, count: Self.count)
        minima.withUnsafeMutableBufferPointer { minima in
            Self.seeds.withUnsafeBufferPointer { seeds in
                for shingle in shingles {
                    for index in 0..<Self.count {
                        minima[index] = min(minima[index], UInt32(truncatingIfNeeded: Self.mix(shingle ^ seeds[index]) >> 32))
                    }
                }
            }
        }
        values = minima
        self.shingles = shingles.count
    }

    /// FNV-1a of each word of `text`, lowercased: a word is a run of letters and digits (Unicode's alphabetic and
    /// numeric characters).
    static func wordHashes(_ text: String) -> [UInt64] {
        var words: [UInt64] = []
        var current: UInt64 = 0xcbf2_9ce4_8422_2325
        var inWord = false
        for scalar in text.unicodeScalars {
            let value = scalar.value
            // ASCII, most of most texts, without a look at the Unicode tables: the same answer, faster.
            let ascii = value < 0x80
            let letterOrDigit =
                ascii
                ? (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value) || (0x30...0x39).contains(value)
                : scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            if letterOrDigit {
                if ascii {
                    let lowered = (0x41...0x5A).contains(value) ? value + 0x20 : value
                    current = (current ^ UInt64(lowered)) &* 0x0000_0100_0000_01B3
                } else {
                    for lowered in scalar.properties.lowercaseMapping.unicodeScalars {
                        current = (current ^ UInt64(lowered.value)) &* 0x0000_0100_0000_01B3
                    }
                }
                inWord = true
            } else if inWord {
                words.append(current)
                current = 0xcbf2_9ce4_8422_2325
                inWord = false
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// A fingerprint stored earlier.
    public init(values: [UInt32], shingles: Int) {
        self.values = values
        self.shingles = shingles
    }

    /// The estimated Jaccard similarity of the two texts' shingle sets.
    public func similarity(to other: MinHash) -> Double {
        guard shingles > 0, other.shingles > 0 else { return 0 }
        return Double(zip(values, other.values).filter { $0 == $1 }.count) / Double(Self.count)
    }

    /// One bucket key per band: texts that share any bucket are candidates for the same story.
    public var bands: [Int64] {
        stride(from: 0, to: Self.count, by: Self.rows).map { start in
            var hash = UInt64(start)
            for value in values[start..<(start + Self.rows)] { hash = Self.mix(hash ^ UInt64(value)) }
            return Int64(bitPattern: hash)
        }
    }

    /// splitmix64's finaliser: a fast, well-mixed 64-bit hash step.
    private static func mix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fixed seeds, so that every node computes the same fingerprints.
    private static let seeds: [UInt64] = (0..<UInt64(count)).map { mix($0 &* 0x2545_F491_4F6C_DD1D) }
}
