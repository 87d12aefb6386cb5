import Foundation

/// Addresses a page on the internet has no business sending newsd to: this machine and the networks it is on.
public enum LocalAddress {
    /// Whether `address` (an IPv4 or IPv6 literal, as libcurl reports the address it connected to) is loopback,
    /// private (RFC 1918, shared address space), link-local, unique-local, unspecified or multicast. Anything that is
    /// not an address literal counts as local: refusing is the safe side.
    public static func isLocal(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return isLocal(v4: UInt32(bigEndian: v4.s_addr)) }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else {
            return true
        }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            // An IPv4 address mapped into IPv6.
            return isLocal(v4: bytes[12...].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if bytes[0..<15].allSatisfy({ $0 == 0 }), bytes[15] <= 1 { return true }  // :: and ::1
        return bytes[0] & 0xFE == 0xFC  // fc00::/7, unique local
            || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)  // fe80::/10, link-local
            || bytes[0] == 0xFF  // multicast
    }

    /// Whether a URL's host names a local address outright: `localhost`, or a literal that ``isLocal(_:)``.
    public static func isLocal(host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        return isLocal(host)
    }

    private static func isLocal(v4 address: UInt32) -> Bool {
        func within(_ network: UInt32, _ bits: UInt32) -> Bool { address >> (32 - bits) == network >> (32 - bits) }
        return within(0x7F00_0000, 8)  // 127/8, loopback
            || within(0x0A00_0000, 8)  // 10/8
            || within(0xAC10_0000, 12)  // 172.16/12
            || within(0xC0A8_0000, 16)  // 192.168/16
            || within(0xA9FE_0000, 16)  // 169.254/16, link-local
            || within(0x6440_0000, 10)  // 100.64/10, shared address space
            || within(0x0000_0000, 8)  // 0/8, this network
            || within(0xE000_0000, 4)  // multicast
            || address == 0xFFFF_FFFF
    }
}
