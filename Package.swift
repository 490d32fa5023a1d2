// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "netinspect",
    platforms: [.macOS(.v13)],
    products: [
        // The decoder, capture and output layers, usable by other Swift programs.
        .library(name: "NetInspect", targets: ["NetWire", "NetCapture", "NetAnalysis", "NetOutput"]),
        .executable(name: "netinspect", targets: ["netinspect"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libpcap from Debian's libpcap-dev. Only NetCapture imports it.
        .systemLibrary(
            name: "CPcap",
            path: "Modules/CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Wire decoding: pure, no I/O, no printing, no dependencies.
        .target(name: "NetWire"),
        // Capture: files, filters. The only code that touches CPcap.
        .target(name: "NetCapture", dependencies: ["CPcap"]),
        // Presentation: text lines and JSON Lines. The only place that builds output.
        // Analysis: per-packet notes, flows, reassembly. Pure: no I/O.
        .target(name: "NetAnalysis", dependencies: ["NetWire"]),
        .target(name: "NetOutput", dependencies: ["NetWire", "NetAnalysis"]),
        // The bundled socket-course demos (`netinspect demo NAME`), with their own capture of lo.
        .target(name: "NetDemos", dependencies: ["NetWire", "NetCapture", "NetAnalysis", "NetOutput"]),
        .executableTarget(
            name: "netinspect",
            dependencies: [
                "NetWire", "NetCapture", "NetAnalysis", "NetOutput", "NetDemos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzzing (scripts/fuzz): libFuzzer's LLVMFuzzerRunDriver declared weak, so the fuzz targets
        // also link in an ordinary build (they then only replay input files).
        .target(name: "CFuzzerDriver"),
        // libFuzzer target over the decoder and both formatters: one packet per input.
        .executableTarget(name: "fuzz-decode", dependencies: ["NetWire", "NetAnalysis", "NetOutput", "CFuzzerDriver"]),
        // libFuzzer target over the TCP analysis: one input is a conversation of TCP segments.
        .executableTarget(name: "fuzz-analysis", dependencies: ["NetWire", "NetAnalysis", "NetOutput", "CFuzzerDriver"]),
        .testTarget(name: "NetWireTests", dependencies: ["NetWire"]),
        .testTarget(name: "NetCaptureTests", dependencies: ["NetCapture"]),
        .testTarget(name: "NetAnalysisTests", dependencies: ["NetAnalysis", "NetWire"]),
        .testTarget(name: "NetDemosTests", dependencies: ["NetDemos", "NetCapture", "NetWire", "NetAnalysis", "NetOutput"]),
        // Formatter unit tests, plus end-to-end golden tests that run the built `netinspect`.
        .testTarget(name: "NetOutputTests", dependencies: ["NetWire", "NetOutput", "netinspect"]),
    ]
)
