#if canImport(Glibc)
    import Glibc
#endif

/// Waits for children that the code under test starts and leaves running
/// (the browser), found by name in /proc. Reaping them keeps the test process
/// free of zombies, which waiters over all children (such as exit tests) would
/// otherwise trip on.
enum SpawnedChildren {
    /// Waits for and reaps every child of this process whose command name is `name`; returns how many.
    @discardableResult
    static func reap(named name: String) -> Int {
        let me = getpid()
        var reaped = 0
        guard let proc = opendir("/proc") else { return 0 }
        var pids: [pid_t] = []
        while let entry = readdir(proc) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let pid = pid_t(entryName) { pids.append(pid) }
        }
        closedir(proc)
        for pid in pids {
            guard let stat = read("/proc/\(pid)/stat"),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let command = stat[stat.index(after: open)..<close]
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard command == name, fields.count > 1, pid_t(fields[1]) == me else { continue }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reaped += 1
        }
        return reaped
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}
