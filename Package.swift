// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "tokenrun",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tokenrun", targets: ["tokenrun"]),
        .executable(name: "tokenrun-http", targets: ["tokenrun-http"]),
        .library(name: "TokenrunKit", targets: ["TokenrunKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // prctl(2) for tokenrun-http, which Swift cannot import (it is variadic).
        .systemLibrary(name: "CProcessControl"),
        .target(
            name: "TokenrunKit",
            dependencies: ["CSodium"]
        ),
        // The network lives in its own small program, started only to refresh, so
        // the warm path's binary carries no TLS or HTTP stack (start-up cost).
        .target(
            name: "TokenrunHTTP",
            dependencies: [
                "TokenrunKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "tokenrun-http",
            dependencies: ["TokenrunHTTP", "CProcessControl"]
        ),
        .executableTarget(
            name: "tokenrun",
            dependencies: [
                "TokenrunKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TokenrunKitTests",
            dependencies: ["TokenrunKit"]
        ),
        // Helpers shared by the test targets: running the built binary, the test provider.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["TestSupport"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
