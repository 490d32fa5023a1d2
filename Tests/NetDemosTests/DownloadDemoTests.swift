import Testing
@testable import NetDemos
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DownloadDemoTests {
    func options(_ file: String, dir: String? = nil) -> DownloadDemo.Options {
        var o = DownloadDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = 5
        o.common.echoTranscript = false
        o.file = file
        o.dir = dir
        return o
    }

    /// A directory with a 300000-byte file, a subdirectory and a symlink to /etc/passwd.
    func makeDir() throws -> DemoDirectory {
        let big = (0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let d = try DemoDirectory(prefix: "netinspect-download-test", files: [("big.bin", big)],
                                  links: [("passwd", "/etc/passwd"), ("inside", "big.bin")])
        return d
    }

    @Test func sampleFileDownloadsByteExact() throws {
        let r = try DownloadDemo.run(options("hello.txt"))
        #expect(r.requested == "hello.txt")
        #expect(r.refusal == nil)
        #expect(r.data == DownloadDemo.sampleFiles[0].bytes)
        let n = try DownloadDemo.run(options("numbers.txt"))
        #expect(n.data == DownloadDemo.sampleFiles[1].bytes)
    }

    @Test func bigFileAndInsideSymlinkDownloadByteExact() throws {
        let d = try makeDir()
        defer { d.remove() }
        let want = readWholeFile(d.path + "/big.bin")
        #expect(want?.count == 300_000)
        #expect(try DownloadDemo.run(options("big.bin", dir: d.path)).data == want)
        #expect(try DownloadDemo.run(options("./big.bin", dir: d.path)).data == want)
        #expect(try DownloadDemo.run(options("inside", dir: d.path)).data == want)  // a symlink that stays inside
    }

    @Test(arguments: ["../etc/passwd", "/etc/passwd", "passwd", "x/../../etc/passwd", "..", "missing.txt", "", "."])
    func refused(name: String) throws {
        let d = try makeDir()
        defer { d.remove() }
        let r = try DownloadDemo.run(options(name, dir: d.path))
        #expect(r.data == nil)
        let msg = try #require(r.refusal)
        #expect(!msg.isEmpty)
        if name == "passwd" { #expect(msg.contains("outside the served directory")) }
        if name == "/etc/passwd" { #expect(msg.contains("absolute")) }
        if name.contains("..") { #expect(msg.contains("'..'")) }
        #expect(!r.transcript.contains { $0.contains("root:") })  // no byte of /etc/passwd came back
    }

    @Test func defaultDirectoryRefusesItsOutsideLink() throws {
        let r = try DownloadDemo.run(options(DownloadDemo.sampleLink.name))
        #expect(r.data == nil)
        #expect(r.refusal?.contains("outside the served directory") == true)
    }

    @Test func resolveChecksThePrefixNotJustTheStart() throws {
        // /tmp/x-XXXX and /tmp/x-XXXX-evil share a string prefix; the check needs the trailing "/".
        let d = try DemoDirectory(prefix: "netinspect-prefix", files: [("a.txt", [65])])
        defer { d.remove() }
        let evil = try DemoDirectory(prefix: String(d.path.split(separator: "/").last!) + "-evil", files: [("b.txt", [66])])
        defer { evil.remove() }
        let link = d.path + "/sneaky"
        #expect(symlink(evil.path + "/b.txt", link) == 0)
        defer { unlink(link) }
        guard case .failure = DownloadDemo.resolve("sneaky", in: d.path) else {
            Issue.record("a symlink into a sibling directory was accepted")
            return
        }
        guard case .success = DownloadDemo.resolve("a.txt", in: d.path) else {
            Issue.record("a.txt refused")
            return
        }
    }
}
