// files.leftovers: per-launch private directories (PrivateFiles) whose
// tokenrun is gone — killed before it could remove them. They may hold token
// files. Doctor only reports them; the next launch sweeps them.
import TokenrunLaunch
import TokenrunSupport

extension Doctor {
    func leftoversCheck() -> DoctorCheck {
        let name = "files.leftovers"
        let base = PrivateFiles.base(paths: paths)
        let leftovers = PrivateFiles.leftovers(base)
        guard !leftovers.isEmpty else { return .pass(name, "no leftover private directories under \(base)") }
        let paths = leftovers.map { Paths.join(base, $0) }
        let count = leftovers.count
        return .warn(
            name,
            "\(count) private director\(count == 1 ? "y" : "ies") of ended launches under \(base) (\(leftovers.joined(separator: ", "))); \(count == 1 ? "it" : "they") may hold tokens",
            fix: "rm -rf \(paths.map(TokenrunError.shellQuoted).joined(separator: " ")) (the next tokenrun launch also removes them)")
    }
}
