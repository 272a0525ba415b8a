import Foundation

/// Unbuffered output, so progress shows as it happens even into a pipe.
enum Console {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
