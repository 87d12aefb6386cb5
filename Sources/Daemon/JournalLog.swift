import Foundation
public import Logging

/// One line per event on stderr, prefixed with its syslog priority (`<6>`) so journald files it at the right level.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    /// A handler logging at `level` and above.
    public init(level: Logger.Level) { self.logLevel = level }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        var line = "<\(priority(event.level))>\(event.message)"
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            let text = "\(value)".replacingOccurrences(of: "\n", with: " ")
            line += text.contains(" ") ? " \(key)=\"\(text)\"" : " \(key)=\(text)"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
