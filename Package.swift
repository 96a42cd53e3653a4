// swift-tools-version: 6.0
// tokenrun — run commands with fresh OAuth access tokens from a sealed vault.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import PackageDescription

// `make release` links tokenrun as one static position-independent executable:
// with no dynamic loader at start-up (libstdc++'s relocations and initialisers
// alone cost about 1 ms per launch) it starts as fast as a C program, and keeps
// address-space randomisation. The flags are safe only with the standard library
// linked statically and no run path (--static-swift-stdlib --disable-local-rpath,
// which the Makefile passes with TOKENRUN_STATIC_PIE=1), so every other build —
// `swift build`, `swift build -c release` — links tokenrun the ordinary way.
let staticPIE = Context.environment["TOKENRUN_STATIC_PIE"] == "1"

// Embedded Swift (the network helper): whole-module, against the toolchain's own
// resource folder (lib/swift, next to the swift compiler on PATH), named explicitly
// because --static-swift-stdlib points every target at lib/swift_static, which has
// no embedded standard library for Linux; the helper links no Swift runtime at all,
// only the standard library's Unicode tables from lib/swift/embedded.
let swiftResources: String = {
    let path = Context.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") {
        let candidate = String(directory) + "/../lib/swift"
        if FileManager.default.fileExists(atPath: String(directory) + "/swiftc"),
            FileManager.default.fileExists(atPath: candidate + "/embedded/x86_64-unknown-linux-gnu")
        {
            return candidate
        }
    }
    return "/opt/swift/usr/lib/swift"
}()
let embedded: [SwiftSetting] = [
    .enableExperimentalFeature("Embedded"), .unsafeFlags(["-wmo", "-resource-dir", swiftResources]),
]
let embeddedLibraries = swiftResources + "/embedded/x86_64-unknown-linux-gnu"
// How the Embedded helpers link: the Unicode tables only, and -no-static-stdlib, since Embedded
// Swift links no standard library and the static one's arguments (make release's
// --static-swift-stdlib) would add libstdc++ and libm, which the helpers never call and which
// took each refresh a millisecond to load.
let embeddedHelperLinking: [LinkerSetting] = [
    .unsafeFlags(["-L" + embeddedLibraries, "-lswiftUnicodeDataTables", "-no-static-stdlib", "-Xlinker", "--as-needed"])
]

let package = Package(
    name: "tokenrun",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tokenrun", targets: ["tokenrun"]),
        .executable(name: "tokenrun-http", targets: ["tokenrun-http"]),
        .executable(name: "tokenrun-pg", targets: ["tokenrun-pg"]),
        .library(name: "TokenrunKit", targets: ["TokenrunKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // libc for the Embedded Swift helpers, which have no Glibc overlay.
        .systemLibrary(name: "CLibc"),
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
        // The network lives in its own small program, started only to fetch a token,
        // so the warm path's binary carries no TLS or HTTP code. It is Embedded Swift
        // over the system's libcurl (proxies, trust store and TLS as curl's): no
        // Foundation, no runtime metadata, a few hundred kilobytes that start fast.
        // What both helpers share: their process calls and their side of the JSON protocol.
        .target(
            name: "TokenrunHelperKit",
            dependencies: ["CLibc", "_TokenrunCShims"],
            swiftSettings: embedded
        ),
        .target(
            name: "TokenrunCurl",
            dependencies: ["CCurl", "TokenrunHelperKit"],
            swiftSettings: embedded
        ),
        .executableTarget(
            name: "tokenrun-http",
            dependencies: ["TokenrunCurl", "TokenrunHelperKit"],
            swiftSettings: embedded,
            linkerSettings: embeddedHelperLinking,
            plugins: ["VersionPlugin"]
        ),
        // A fleet's shared vault lives in PostgreSQL, reached through its own helper over
        // the system's libpq (its URLs, ~/.pgpass, service files and sslmode as psql's),
        // started only when a refresh or a vault command needs the database.
        .target(
            name: "TokenrunPostgres",
            dependencies: ["CPostgres", "TokenrunHelperKit"],
            swiftSettings: embedded
        ),
        .executableTarget(
            name: "tokenrun-pg",
            dependencies: ["TokenrunPostgres", "TokenrunHelperKit"],
            swiftSettings: embedded,
            linkerSettings: embeddedHelperLinking,
            plugins: ["VersionPlugin"]
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
