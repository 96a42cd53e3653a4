/// What this build of tokenrun is: the version of the VERSION file and the git
/// commit it was built from (both generated at build time by Plugins/VersionPlugin).
public enum TokenrunVersion {
    /// The release version, such as "1.2.3".
    public static let version: String = generatedVersion
    /// git's short hash of the commit built, "-dirty" when the tree had changes, or "unknown".
    public static let commit: String = generatedCommit
    /// The text of `tokenrun --version`.
    public static let description: String = "\(version) (commit \(commit))"
    /// The User-Agent of every request tokenrun makes.
    public static let userAgent: String = "tokenrun/\(version)"
}
