import Foundation
import SyncLedgerPostgres

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plain HTTP/1.1 GET against 127.0.0.1, for the metrics port.
package enum HTTPProbe {
    package struct Response: Sendable {
        package var status: Int
        package var body: String
    }

    /// The response, or nil when nothing answers (connection refused or reset).
    package static func get(port: Int, path: String) async -> Response? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: blockingGet(port: port, path: path)) }
        }
    }

    private static func blockingGet(port: Int, path: String) -> Response? {
        guard let fd = LoopbackSocket.connected(to: port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n") else { return nil }
        let statusLine = text[..<headerEnd.lowerBound].split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        return Response(status: status, body: String(text[headerEnd.upperBound...]))
    }

    /// Polls `path` until `accept` holds for the response; nil after `bound`.
    package static func wait(
        port: Int, path: String, bound: Duration = .seconds(90), until accept: (Response) -> Bool
    ) async -> Response? {
        let deadline = ContinuousClock.now + bound
        while ContinuousClock.now < deadline {
            if let response = await get(port: port, path: path), accept(response) { return response }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }
}
