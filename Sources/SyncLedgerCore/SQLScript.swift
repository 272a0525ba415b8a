/// Splits a SQL script (a migration file) into statements the extended query
/// protocol accepts one at a time, as psql would: semicolons inside quoted
/// strings, quoted identifiers, dollar-quoted bodies and comments do not split.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        let chars = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var hasCode = false
        var i = 0

        func flush() {
            let text = String(current).trimmingWhitespace()
            if hasCode && !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
            hasCode = false
        }
        func append(_ range: Range<Int>) { current.append(contentsOf: chars[range]) }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            switch c {
            case "-" where next == "-":
                var end = i
                while end < chars.count && chars[end] != "\n" { end += 1 }
                append(i..<end)
                i = end
            case "/" where next == "*":
                var depth = 0
                var end = i
                while end < chars.count {
                    if chars[end] == "/" && end + 1 < chars.count && chars[end + 1] == "*" {
                        depth += 1
                        end += 2
                    } else if chars[end] == "*" && end + 1 < chars.count && chars[end + 1] == "/" {
                        depth -= 1
                        end += 2
                        if depth == 0 { break }
                    } else {
                        end += 1
                    }
                }
                append(i..<min(end, chars.count))
                i = end
            case "'", "\"":
                var end = i + 1
                while end < chars.count {
                    if chars[end] == c {
                        if end + 1 < chars.count && chars[end + 1] == c { end += 2; continue }
                        end += 1
                        break
                    }
                    end += 1
                }
                append(i..<min(end, chars.count))
                hasCode = true
                i = end
            case "$":
                // A dollar-quote tag: $$ or $tag$ (tag: letters, digits, underscores, not starting with a digit).
                var end = i + 1
                while end < chars.count, chars[end] == "_" || chars[end].properties.isAlphabetic || ("0"..."9").contains(chars[end]) {
                    end += 1
                }
                let isTag = end < chars.count && chars[end] == "$" && !(i + 1 < end && ("0"..."9").contains(chars[i + 1]))
                guard isTag else {
                    current.append(c)
                    hasCode = true
                    i += 1
                    continue
                }
                let tag = Array(chars[i...end])
                var close = end + 1
                var found = chars.count
                while close + tag.count <= chars.count {
                    if Array(chars[close..<close + tag.count]) == tag { found = close + tag.count; break }
                    close += 1
                }
                append(i..<found)
                hasCode = true
                i = found
            case ";":
                flush()
                i += 1
            default:
                current.append(c)
                if !c.properties.isWhitespace { hasCode = true }
                i += 1
            }
        }
        flush()
        return statements
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
