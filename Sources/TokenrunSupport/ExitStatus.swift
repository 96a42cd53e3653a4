/// The exit statuses tokenrun itself uses (README.md, "Exit status"); a child's own status passes through.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case usage = 64
    case temporaryFailure = 75
    case reconsentNeeded = 77
    case configuration = 78
}
