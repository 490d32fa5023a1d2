import Testing
@testable import NetDemos

@Suite struct FramedDemoTests {
    func options(_ prefix: FramedDemo.Prefix, _ commands: [String]) -> FramedDemo.Options {
        var o = FramedDemo.Options()
        o.common.port = 0  // any free port
        o.common.timeout = 10
        o.common.echoTranscript = false
        o.prefix = prefix
        o.commands = commands
        return o
    }

    @Test(arguments: FramedDemo.Prefix.allCases)
    func everyAnswerByteExact(prefix: FramedDemo.Prefix) throws {
        let commands = ["date", "uptime", "echo hello,  framed \"world\"", "ls", "big 200000", "big 0", "cat /etc/passwd", "sh -c id", "date; ls"]
        let r = try FramedDemo.run(options(prefix, commands))
        #expect(r.commands == commands)
        try #require(r.answers.count == commands.count)
        #expect(r.answers.map(\.command) == commands)
        #expect(r.answers.map(\.name) == ["date", "uptime", "echo", "ls", "big", "big", "error", "error", "error"])

        let date = String(decoding: r.answers[0].body, as: UTF8.self)
        #expect(date.hasSuffix("\n") && date.contains("UTC"))
        #expect(String(decoding: r.answers[1].body, as: UTF8.self).hasPrefix("up "))
        #expect(r.answers[2].body == Array("hello,  framed \"world\"\n".utf8))
        #expect(String(decoding: r.answers[3].body, as: UTF8.self) == "notes.txt  81 bytes\nnumbers.txt  292 bytes\nreadme.txt  53 bytes\n")
        #expect(r.answers[4].body.count == 200_000)
        #expect(r.answers[4].body == FramedDemo.bigBody(200_000))
        #expect(r.answers[5].body.isEmpty)
        for a in r.answers[6...] {
            #expect(a.refused)
            #expect(String(decoding: a.body, as: UTF8.self).hasPrefix("refused: "))
        }
    }

    @Test func bigIsCapped() throws {
        let r = try FramedDemo.run(options(.le, ["big 10000001", "big -1", "big lots"]))
        #expect(r.answers.count == 3)
        #expect(r.answers.allSatisfy { $0.refused })
    }

    @Test func bigBodyIsNumberedLines() {
        let b = FramedDemo.bigBody(130)
        #expect(b.count == 130)
        #expect(Array(b.prefix(12)) == Array("big 0000001 ".utf8))
        #expect(b[63] == 10)
        #expect(Array(b[64 ..< 76]) == Array("big 0000002 ".utf8))
    }

    @Test func lengthPrefixByteOrder() {
        #expect(FramedDemo.lengthPrefix(37, .le) == [37, 0, 0, 0])
        #expect(FramedDemo.lengthPrefix(37, .be) == [0, 0, 0, 37])
        #expect(FramedDemo.lengthPrefix(0x0102_0304, .le) == [4, 3, 2, 1])
        #expect(FramedDemo.decodeLength([4, 3, 2, 1], .le) == 0x0102_0304)
        #expect(FramedDemo.decodeLength([0xFF, 0xFF, 0xFF, 0xFF], .be) == -1)
    }

    @Test func jsonHeaderRoundTrip() {
        let s = JSONHeader.encode(totalSize: 12, name: "a \"b\"\\\n\u{1}é")
        #expect(s == "{\"total_size\": 12, \"name\": \"a \\\"b\\\"\\\\\\n\\u0001é\"}")
        #expect(JSONHeader.decode(Array(s.utf8)) == JSONHeader(totalSize: 12, name: "a \"b\"\\\n\u{1}é"))
        #expect(JSONHeader.decode(Array(#" { "name" : "x\u00e9\ud83d\ude00", "extra": [1], "total_size": 5 } "#.utf8)) == nil)  // arrays not supported
        #expect(JSONHeader.decode(Array(#"{"name": "x\u00e9\ud83d\ude00", "extra": true, "total_size": 5}"#.utf8)) == JSONHeader(totalSize: 5, name: "xé😀"))
        #expect(JSONHeader.decode(Array(#"{"total_size": 5}"#.utf8)) == nil)
        #expect(JSONHeader.decode(Array(#"{"total_size": 1.5, "name": "x"}"#.utf8)) == nil)
        #expect(JSONHeader.decode(Array(#"{"total_size": 5, "name": "x"} trailing"#.utf8)) == nil)
    }
}
