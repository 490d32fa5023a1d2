import ArgumentParser
import NetDemos

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "TCP file download: the client asks for a name, the server sends the bytes and closes.",
        discussion: """
        The server serves one directory only (by default a temporary one with hello.txt, numbers.txt,
        data.bin and passwd-link, a symlink to /etc/passwd). Absolute paths, '..' and symlinks that
        lead out of the directory are refused with an error message. Reply: a status line
        ("OK SIZE" or "ERR message"), then the file's bytes; the server's FIN ends the file.
        """)

    @OptionGroup var common: DemoCommonOptions

    @Option(help: "The file name the client asks for.")
    var file = "hello.txt"

    @Option(help: ArgumentHelp("The directory the server serves (default: a temporary one with sample files).", valueName: "dir"))
    var dir: String?

    @Option(help: ArgumentHelp("Save the downloaded file here (an existing file is never overwritten).", valueName: "file"))
    var output: String?

    func run() throws {
        var o = DownloadDemo.Options()
        o.common = common.options
        o.file = file
        o.dir = dir
        o.output = output
        try runDemo { () throws(DemoError) in _ = try DownloadDemo.run(o) }
    }
}
