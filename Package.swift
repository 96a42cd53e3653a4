// swift-tools-version: 6.0
// tokenrun — run commands with fresh OAuth access tokens from a sealed vault.
// SPDX-License-Identifier: Apache-2.0
import PackageDescription

// `make release` links tokenrun as one static position-independent executable:
// with no dynamic loader at start-up (libstdc++'s relocations and initialisers
// alone cost about 1 ms per launch) it starts as fast as a C program, and keeps
// address-space randomisation. The flags are safe only with the standard library
// linked statically and no run path (--static-swift-stdlib --disable-local-rpath,
// which the Makefile passes with TOKENRUN_STATIC_PIE=1), so every other build —
// `swift build`, `swift build -c release` — links tokenrun the ordinary way.
let staticPIE = Context.environment["TOKENRUN_STATIC_PIE"] == "1"

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
        // prctl and syscall (the kernel keyring) are variadic, so Swift cannot call them: a small C shim.
        .target(
            name: "_TokenrunCShims",
            path: "Sources/_TokenrunCShims"
        ),
        // The version (VERSION) and the git commit, generated before every build.
        .plugin(name: "VersionPlugin", capability: .buildTool()),
        .target(
            name: "TokenrunVersion",
            plugins: ["VersionPlugin"]
        ),
        // The library, in stages that follow the data flow (ARCHITECTURE.md). Each
        // stage depends only on the stages before it, so a call back up does not compile.
        .target(name: "TokenrunSodium", dependencies: ["CSodium"]),
        .target(name: "TokenrunSupport", dependencies: ["TokenrunSodium", "_TokenrunCShims"]),
        .target(name: "TokenrunAudit", dependencies: ["TokenrunSupport"]),
        .target(name: "TokenrunProfiles", dependencies: ["TokenrunSupport"]),
        .target(name: "TokenrunVault", dependencies: ["TokenrunProfiles", "TokenrunAudit"]),
        .target(name: "TokenrunOAuth", dependencies: ["TokenrunVault", "TokenrunVersion"]),
        .target(name: "TokenrunRefresh", dependencies: ["TokenrunOAuth"]),
        .target(name: "TokenrunServers", dependencies: ["TokenrunRefresh"]),
        .target(name: "TokenrunLaunch", dependencies: ["TokenrunServers"]),
        .target(name: "TokenrunDoctor", dependencies: ["TokenrunLaunch"]),
        // Every stage under one name, for the executable and the tests.
        .target(name: "TokenrunKit", dependencies: ["TokenrunDoctor"]),
        // The network lives in its own small program, started only to refresh, so
        // the warm path's binary carries no TLS or HTTP stack (start-up cost).
        .target(
            name: "TokenrunHTTP",
            dependencies: [
                "TokenrunOAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "tokenrun-http",
            dependencies: ["TokenrunHTTP", "TokenrunVersion"]
        ),
        .executableTarget(
            name: "tokenrun",
            dependencies: [
                "TokenrunKit",
                "TokenrunVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: staticPIE
                ? [
                    .unsafeFlags(
                        [
                            "-static-executable", "-use-ld=lld", "-Xclang-linker", "-static-pie",
                            "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                        ],
                        .when(platforms: [.linux], configuration: .release)
                    )
                ] : []
        ),
        .testTarget(
            name: "TokenrunKitTests",
            dependencies: ["TokenrunKit"]
        ),
        // The executable's hand-written fast-path parser, checked against ArgumentParser.
        .testTarget(
            name: "CommandLineTests",
            dependencies: ["tokenrun"]
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
        // Fuzz targets for the profile parser, the vault reader and the token
        // response reader (Tests/Fuzz/README.md): the properties, a driver that
        // runs them under libFuzzer or a seeded mutator (`make fuzz`), and a
        // short seeded run in the test suite.
        .target(
            name: "TokenrunFuzz",
            dependencies: ["TokenrunKit"],
            path: "Tests/Fuzz/Targets"
        ),
        .executableTarget(
            name: "tokenrun-fuzz",
            dependencies: ["TokenrunFuzz", "TokenrunKit"],
            path: "Tests/Fuzz/Driver"
        ),
        .testTarget(
            name: "FuzzTests",
            dependencies: ["TokenrunFuzz"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
