// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "newsd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "newsd", targets: ["newsd"]),
        .executable(name: "newsctl", targets: ["newsctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "NewsCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict
        ),
        .target(name: "Feeds", dependencies: ["NewsCore", "CLibXML2"], swiftSettings: strict),
        .target(name: "Extraction", dependencies: ["NewsCore"], swiftSettings: strict),
        .target(name: "Fetching", dependencies: ["NewsCore", "CCurl"], swiftSettings: strict),
        .target(
            name: "Archive",
            dependencies: [
                "NewsCore", "CZstd", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Sync",
            dependencies: [
                "NewsCore", "Archive", "Fetching",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "NewsCore", "Feeds", "Extraction", "Fetching", "Archive", "Sync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "newsd",
            dependencies: [
                "Daemon", "NewsCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "newsctl",
            dependencies: [
                "NewsCore", "Fetching", "Feeds", "Extraction",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "feed-fuzzer", dependencies: ["Feeds", "FuzzDriver"], path: "fuzz/FeedFuzzer", swiftSettings: strict),
        .executableTarget(
            name: "extract-fuzzer", dependencies: ["Extraction", "FuzzDriver"], path: "fuzz/ExtractFuzzer",
            swiftSettings: strict),
        .target(name: "FuzzDriver", path: "fuzz/FuzzDriver", swiftSettings: strict),
        .executableTarget(
            name: "sync-fuzzer", dependencies: ["Sync", "Archive", "Extraction", "NewsCore", "FuzzDriver"],
            path: "fuzz/SyncFuzzer",
            swiftSettings: strict),
        .executableTarget(
            name: "newsd-bench",
            dependencies: [
                "Feeds", "Fetching", "NewsCore", "NewsdTesting", "Archive", "Extraction", "Daemon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "bench/NewsdBench", swiftSettings: strict),
        .target(
            name: "NewsdTesting",
            dependencies: [
                "NewsCore", "Daemon", "Archive", "Fetching", "Sync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "NewsCoreTests", dependencies: ["NewsCore", "NewsdTesting"], swiftSettings: strict),
        .testTarget(name: "FeedsTests", dependencies: ["Feeds"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "ExtractionTests", dependencies: ["Extraction", "NewsdTesting"], exclude: ["Fixtures"], swiftSettings: strict
        ),
        .testTarget(
            name: "ArchiveTests",
            dependencies: ["Archive", "NewsCore", "NewsdTesting", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "NewsdTesting", "Daemon", "Archive", "NewsCore", "Fetching", "Sync", "CZstd", "Extraction", "newsd",
                "newsctl", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
