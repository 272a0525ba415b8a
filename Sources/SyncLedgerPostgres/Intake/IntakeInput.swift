import Foundation
import Synchronization
import SyncLedgerCore

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes of a file to submit, or of standard input (`-`), read a chunk
/// at a time: memory stays one chunk, whatever the size.
///
/// Reads block the calling thread until data arrives (a slow pipe) — what a
/// command-line tool reading its input does; the database connection runs on
/// its own event loop meanwhile. One task reads; ``bytesRead`` may be read
/// from any (a progress display).
public final class IntakeInput: Sendable {
    /// The name for messages: the path as given, or `standard input`.
    public let name: String
    /// The file's size, for progress; nil for standard input and pipes.
    public let totalBytes: Int64?
    /// Bytes read so far.
    public var bytesRead: Int64 { readCount.load(ordering: .relaxed) }
    private let readCount = Atomic<Int64>(0)
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens `path`; `-` is standard input. Throws an ``IntakeError`` naming
    /// the file when it cannot be read.
    public init(path: String) throws {
        if path == "-" {
            name = "standard input"
            descriptor = STDIN_FILENO
            ownsDescriptor = false
            totalBytes = nil
            return
        }
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw IntakeError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
            totalBytes = Int64(info.st_size)
        } else if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw IntakeError(.unreadable, "\(path) is a directory, not a file")
        } else {
            totalBytes = nil
        }
        descriptor = fd
        ownsDescriptor = true
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Reads the next chunk into `buffer` (up to its count); returns the
    /// number of bytes read, 0 at the end of the input.
    public func read(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 {
                readCount.add(Int64(count), ordering: .relaxed)
                return count
            }
            if errno == EINTR { continue }
            throw IntakeError(.unreadable, "cannot read \(name): \(String(cString: strerror(errno)))")
        }
    }
}
