import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// sd_notify(3) without libsystemd: a datagram to `$NOTIFY_SOCKET`. Does
/// nothing when systemd did not ask for notifications.
enum SystemdNotifier {
    static func notify(_ state: String) {
        #if canImport(Glibc)
            guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
            let abstract = path.hasPrefix("@")
            if abstract { path.removeFirst() }
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count + 1 < capacity else { return }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                let offset = abstract ? 1 : 0
                for (index, byte) in bytes.enumerated() { buffer[index + offset] = byte }
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 0))
            let message = Array(state.utf8)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                    message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sockaddrPointer, length) }
                }
            }
        #endif
    }
}
