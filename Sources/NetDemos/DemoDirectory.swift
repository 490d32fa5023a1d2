#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary directory a demo server creates (mkdtemp under $TMPDIR or /tmp) with a few sample
/// files, and removes again: only the entries it created, then the directory.
final class DemoDirectory: @unchecked Sendable {
    let path: String
    private var created: [String] = []

    init(prefix: String, files: [(String, [UInt8])], links: [(String, String)] = []) throws(DemoError) {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw DemoError.errno("mkdtemp \(base)/\(prefix)-XXXXXX")
        }
        path = String(cString: p)
        for (name, bytes) in files {
            guard writeWholeFile("\(path)/\(name)", bytes) else {
                let e = DemoError.errno("write \(path)/\(name)")
                remove()
                throw e
            }
            created.append(name)
        }
        for (name, target) in links {
            guard symlink(target, "\(path)/\(name)") == 0 else {
                let e = DemoError.errno("symlink \(path)/\(name)")
                remove()
                throw e
            }
            created.append(name)
        }
    }

    func remove() {
        for name in created { unlink("\(path)/\(name)") }
        created = []
        rmdir(path)
    }

    /// `ls -l`-like lines for the entries of `dir`, sorted by name (symlinks shown with their target).
    static func listing(_ dir: String) -> String {
        guard let d = opendir(dir) else { return "" }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        var out = ""
        for name in names.sorted() {
            var st = stat()
            let full = "\(dir)/\(name)"
            guard lstat(full, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(full, &buf, buf.count - 1)
                let target = n >= 0 ? String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
                out += "\(name) -> \(target)\n"
            case S_IFDIR: out += "\(name)/\n"
            default: out += "\(name)  \(st.st_size) bytes\n"
            }
        }
        return out
    }
}

/// The whole content of a small file (nil if it cannot be read).
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { return out }
        out += buf.prefix(n)
    }
}

/// Creates (exclusively) and writes a file; false on any error.
func writeWholeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return write(fd, base + off, raw.count - off)
        }
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        if n == 0 { return false }
        off += n
    }
    return true
}
