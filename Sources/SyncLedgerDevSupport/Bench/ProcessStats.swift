import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time and memory, read from the kernel, so the bench can show where
/// time goes: in the worker (this process) or in PostgreSQL.
enum ProcessStats {
    /// This process's user + system CPU seconds.
    static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set size of this process, in KiB.
    static func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    /// CPU seconds used so far by a PostgreSQL server: its postmaster's own
    /// and reaped children's time, plus its live children's. `nil` when the
    /// server is not local or its data directory cannot be read.
    static func serverCPUSeconds(dataDirectory: String) -> Double? {
        guard let pidfile = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let postmaster = Int(pidfile.split(separator: "\n").first ?? "")
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let own = stat(postmaster) else { return nil }
        var total = own.utime + own.stime + own.cutime + own.cstime
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int(entry), pid != postmaster, let child = stat(pid), child.ppid == postmaster else { continue }
            total += child.utime + child.stime
        }
        return total / ticks
    }

    private struct Stat {
        var ppid: Int
        var utime: Double
        var stime: Double
        var cutime: Double
        var cstime: Double
    }

    /// Fields of /proc/<pid>/stat after the command name: state is field 3,
    /// ppid 4, utime 14, stime 15, cutime 16, cstime 17.
    private static func stat(_ pid: Int) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 15 else { return nil }
        func number(_ index: Int) -> Double { Double(fields[index - 3]) ?? 0 }
        return Stat(ppid: Int(number(4)), utime: number(14), stime: number(15), cutime: number(16), cstime: number(17))
    }
}
