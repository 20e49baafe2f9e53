// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "FieldSync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fieldsync-server", targets: ["FieldSyncServerMain"]),
        .executable(name: "fieldsync", targets: ["FieldSyncCLI"]),
        .executable(name: "fieldsync-bench", targets: ["FieldSyncBench"]),
        .library(name: "FieldSyncCore", targets: ["FieldSyncCore"]),
        .library(name: "FieldSyncGeometry", targets: ["FieldSyncGeometry"]),
        .library(name: "FieldSyncServer", targets: ["FieldSyncServer"]),
        .library(name: "FieldSyncClient", targets: ["FieldSyncClient"]),
        .library(name: "FieldSyncODK", targets: ["FieldSyncODK"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        // libgeos_c, found through pkg-config; see Sources/CGEOS/shim.h.
        .systemLibrary(
            name: "CGEOS",
            pkgConfig: "geos",
            providers: [.apt(["libgeos-dev"])]
        ),
        // zlib (gzip of streamed answers); see Sources/CZlib/shim.h.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Wire types and sync semantics. No I/O: shared by server and CLI.
        .target(name: "FieldSyncCore"),
        // ODK: XForms, submissions, OpenRosa documents, multipart bodies. Pure: no I/O (issue 14).
        .target(name: "FieldSyncODK", dependencies: ["FieldSyncCore"]),
        // GEOS: validation, repair, simplification; values cross threads as WKB.
        .target(name: "FieldSyncGeometry", dependencies: ["CGEOS", "FieldSyncCore"]),
        .target(
            name: "FieldSyncServer",
            dependencies: [
                "FieldSyncCore",
                "FieldSyncGeometry",
                "FieldSyncODK",
                "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system", condition: .when(platforms: [.linux])),
            ],
            plugins: ["EmbedMigrations"]
        ),
        // Schemas/migrations/*.sql compiled into FieldSyncServer at build time.
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["EmbedMigrationsTool"]),
        .executableTarget(name: "EmbedMigrationsTool", path: "Plugins/EmbedMigrationsTool"),
        .executableTarget(
            name: "FieldSyncServerMain",
            dependencies: [
                "FieldSyncServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "FieldSyncClient",
            dependencies: [
                "FieldSyncCore",
                "CZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One emulated device = one SQLite store; the fleet simulator.
        .target(
            name: "FieldSyncDevice",
            dependencies: ["FieldSyncCore", "FieldSyncClient", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "FieldSyncCLI",
            dependencies: [
                "FieldSyncClient",
                "FieldSyncCore",
                "FieldSyncDevice",
                "FieldSyncODK",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Load generators for BENCHMARKS.md (scripts/bench-*).
        .executableTarget(
            name: "FieldSyncBench",
            dependencies: [
                "FieldSyncCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "FieldSyncCoreTests", dependencies: ["FieldSyncCore"]),
        .testTarget(name: "FieldSyncODKTests", dependencies: ["FieldSyncODK"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FieldSyncGeometryTests", dependencies: ["FieldSyncGeometry"], resources: [.copy("Fixtures")]),
        // What the server, device and CLI tests share: a fresh database of the throwaway
        // PostGIS (FIELDSYNC_TEST_DATABASE_URL) and a live server on it.
        .target(
            name: "FieldSyncTestSupport",
            dependencies: [
                "FieldSyncServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FieldSyncTestSupport"
        ),
        .testTarget(name: "FieldSyncDeviceTests", dependencies: ["FieldSyncDevice", "FieldSyncTestSupport"]),
        .testTarget(
            name: "FieldSyncClientTests",
            dependencies: [
                "FieldSyncClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "FieldSyncCLITests",
            dependencies: [
                "FieldSyncCLI", "FieldSyncTestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "FieldSyncServerTests",
            dependencies: [
                "FieldSyncServer",
                "FieldSyncClient",
                "FieldSyncTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
