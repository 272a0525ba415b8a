/// The release of this build: `syncledger --version`, `status --json` and the
/// `syncledger_build_info` metric all read it from here.
public enum SyncLedgerVersion {
    public static let current = "0.1.0"
}
