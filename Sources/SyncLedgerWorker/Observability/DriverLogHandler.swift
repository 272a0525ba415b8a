import Logging

/// Passes postgres-nio's own log lines on at `debug`, and only when the
/// wrapped handler logs `debug` (or `trace`): the driver's chatter (each
/// failed connection attempt of its pool, at `info`) stays out of an
/// operator's log unless asked for with `SYNCLEDGER_LOG_LEVEL=debug`. The
/// level the driver gave a line is kept in `driver_level`.
struct DriverLogHandler: LogHandler {
    private var inner: any LogHandler
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(wrapping inner: any LogHandler) {
        self.inner = inner
        self.metadataProvider = inner.metadataProvider
    }

    /// What the logger lets through: everything when the wrapped handler
    /// logs debug, nothing but criticals otherwise (which are then dropped
    /// too). Setting it changes nothing: the wrapped handler's level decides.
    var logLevel: Logger.Level {
        get { inner.logLevel <= .debug ? .trace : .critical }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard inner.logLevel <= .debug else { return }
        var event = event
        var fields = metadata
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        fields["driver_level"] = "\(event.level.rawValue)"
        event.metadata = fields
        event.level = max(.debug, min(event.level, .debug))
        inner.log(event: event)
    }
}
